import { zodResolver } from "@hookform/resolvers/zod";
import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { z } from "zod";
import type { Problem } from "../api/session";
import { useAuth } from "../auth/AuthProvider";

const schema = z.object({
  identifier: z.string().trim().min(3, "Enter your email or phone number"),
  password: z.string().min(1, "Enter your password"),
});
type Form = z.infer<typeof schema>;

export function SignInPage() {
  const { user, ready, signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [problem, setProblem] = useState<Problem | null>(null);
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: { identifier: "", password: "" } });
  const next = params.get("next") ?? "/";

  if (ready && user) return <Navigate to={next} replace />;

  const submit = form.handleSubmit(async (values) => {
    setProblem(null);
    try {
      const result = await signIn(values.identifier, values.password);
      if (!result.ok) {
        setProblem(result.problem);
        return;
      }
      navigate(next, { replace: true });
    } catch {
      setProblem({ title: "Could not reach the API", status: 0, detail: "Check that the API is running, then try again." });
    }
  });

  return (
    <Center mih="100vh" bg="gray.0" p="md">
      <Paper withBorder shadow="sm" p="xl" w={400} maw="100%">
        <form onSubmit={submit} noValidate>
          <Stack>
            <div>
              <Title order={1} size="h2">HomePlans admin</Title>
              <Text c="dimmed" size="sm">
                Sign in with your staff account (admin or support).
              </Text>
            </div>
            {problem && (
              <Alert color="red" title={problem.title} role="alert" data-testid="signin-problem">
                {problem.detail}
              </Alert>
            )}
            <TextInput
              label="Email or phone"
              autoComplete="username"
              {...form.register("identifier")}
              error={form.formState.errors.identifier?.message}
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              {...form.register("password")}
              error={form.formState.errors.password?.message}
            />
            <Button type="submit" loading={form.formState.isSubmitting}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
