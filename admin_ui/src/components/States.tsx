// The loading, empty, error and not-allowed states every screen uses; each says what to do.
import { Alert, Button, Center, Group, Loader, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { Problem } from "../api/session";

export function Loading({ what }: { what: string }) {
  return (
    <Center py="xl" data-testid="loading">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">Loading {what}…</Text>
      </Group>
    </Center>
  );
}

export function Empty({ title, hint, action }: { title: string; hint: string; action?: ReactNode }) {
  return (
    <Center py="xl" data-testid="empty">
      <Stack align="center" gap="xs">
        <Text fw={600}>{title}</Text>
        <Text c="dimmed" ta="center" maw={480}>
          {hint}
        </Text>
        {action}
      </Stack>
    </Center>
  );
}

function problemText(error: unknown): { title: string; detail: string; status?: number } {
  const p = error as Partial<Problem> | undefined;
  if (p && typeof p === "object" && "detail" in p && p.detail) {
    return { title: p.title ?? "Error", detail: p.detail, status: p.status };
  }
  return {
    title: "Could not reach the API",
    detail: "Check that the API is running (make run) and your connection, then try again.",
  };
}

export function ErrorState({ error, retry, what }: { error: unknown; retry?: () => void; what: string }) {
  const p = problemText(error);
  if (p.status === 403) return <NotAllowed detail={p.detail} />;
  return (
    <Alert color="red" title={`Could not load ${what}: ${p.title}`} role="alert" data-testid="error">
      <Stack gap="xs">
        <Text size="sm">{p.detail}</Text>
        {retry && (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={retry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

export function NotAllowed({ detail }: { detail?: string }) {
  return (
    <Center py="xl" data-testid="not-allowed">
      <Stack align="center" gap="xs">
        <Title order={3}>Not allowed</Title>
        <Text c="dimmed" ta="center" maw={480}>
          {detail ?? "Your role cannot open this screen."} Ask an admin if you need it.
        </Text>
        <Button component={Link} to="/" variant="light">
          Back to the start
        </Button>
      </Stack>
    </Center>
  );
}

/** A refused action's reason, shown where the action was. */
export function Refused({ error }: { error: unknown }) {
  if (!error) return null;
  const p = problemText(error);
  return (
    <Alert color="orange" title="Refused" data-testid="refused" role="alert">
      {p.detail}
    </Alert>
  );
}
