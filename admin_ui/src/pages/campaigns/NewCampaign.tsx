// A new campaign: its title, its message and its audience (how many it holds now, on asking);
// saved as a draft, so nobody is sent anything until it is started.
import { zodResolver } from "@hookform/resolvers/zod";
import { Alert, Button, Card, Group, NumberInput, Select, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { z } from "zod";
import { api, unwrap, type Schemas } from "../../api/client";
import type { Problem } from "../../api/session";
import { applyFieldErrors } from "../../components/fieldErrors";
import { count } from "../../components/Paged";
import { keys } from "../../queryKeys";

const schema = z.object({
  title: z.string().trim().min(1, "Give it a title").max(120),
  body: z.string().trim().min(1, "Write the message").max(2000),
  kind: z.enum(["all", "plan", "category", "expiring"]),
  target: z.string(),
  within_days: z.number().int().min(1).max(365),
});
type Form = z.infer<typeof schema>;

type Audience = Schemas["CampaignIn"]["audience"];

function audienceOf(f: Form): Audience {
  if (f.kind === "plan") return { kind: "plan", plan_id: f.target };
  if (f.kind === "category") return { kind: "category", category_id: f.target };
  if (f.kind === "expiring") return { kind: "expiring", within_days: f.within_days };
  return { kind: "all" };
}

export function NewCampaign({ done }: { done: () => void }) {
  const [problems, setProblems] = useState<string[]>([]);
  const [size, setSize] = useState<number | null>(null);
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: { title: "", body: "", kind: "all", target: "", within_days: 30 } });
  const kind = form.watch("kind");
  const plans = useQuery({ queryKey: keys.plans.onSale, enabled: kind === "plan", queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans", { params: { query: { status: "active", limit: 100 } } })) });
  const categories = useQuery({ queryKey: keys.categories.all, enabled: kind === "category", queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const preview = useMutation({ mutationFn: (f: Form) => unwrap(api.POST("/api/v1/admin/campaigns/preview", { body: { audience: audienceOf(f) } })), onSuccess: (r) => setSize(r.size) });
  const create = useMutation({
    mutationFn: (f: Form) => unwrap(api.POST("/api/v1/admin/campaigns", { body: { title: f.title, body: f.body, audience: audienceOf(f) } })),
    onSuccess: () => { form.reset(); setSize(null); setProblems([]); done(); },
    onError: (e: Problem) => setProblems(applyFieldErrors(e, form.setError, ["title", "body"], (f) => f.replace(/^audience\..*$/, "target"))),
  });
  const targets = kind === "plan" ? (plans.data?.items ?? []).map((p) => ({ value: p.id, label: p.current_version.name })) : (categories.data ?? []).map((c) => ({ value: c.id, label: c.name }));
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">New campaign</Title>
      <form noValidate onSubmit={form.handleSubmit((v) => create.mutate(v))}>
        <Stack gap="xs">
          <TextInput label="Title" {...form.register("title")} error={form.formState.errors.title?.message} />
          <Textarea label="Message" autosize minRows={2} {...form.register("body")} error={form.formState.errors.body?.message} />
          <Group align="end" wrap="wrap">
            <Controller control={form.control} name="kind" render={({ field }) => (
              <Select label="Audience" w={220} value={field.value} onChange={(v) => { field.onChange(v ?? "all"); setSize(null); }} data={[{ value: "all", label: "All customers" }, { value: "plan", label: "Holders of a plan" }, { value: "category", label: "Holders of a category" }, { value: "expiring", label: "Plans ending soon" }]} />
            )} />
            {(kind === "plan" || kind === "category") && (
              <Controller control={form.control} name="target" render={({ field }) => (
                <Select label={kind === "plan" ? "Plan" : "Category"} w={220} data={targets} value={field.value || null} onChange={(v) => field.onChange(v ?? "")} error={form.formState.errors.target?.message} />
              )} />
            )}
            {kind === "expiring" && (
              <Controller control={form.control} name="within_days" render={({ field }) => (
                <NumberInput label="Ending within (days)" w={170} min={1} max={365} value={field.value} onChange={(v) => field.onChange(Number(v))} />
              )} />
            )}
            <Button variant="default" onClick={form.handleSubmit((v) => preview.mutate(v))} loading={preview.isPending}>How many?</Button>
            {size !== null && <Text size="sm" data-testid="audience-size">{count(size, "customer")} now</Text>}
          </Group>
          {problems.length > 0 && <Alert color="red">{problems.join("; ")}</Alert>}
          <Group justify="end"><Button type="submit" loading={create.isPending}>Save as draft</Button></Group>
        </Stack>
      </form>
    </Card>
  );
}

