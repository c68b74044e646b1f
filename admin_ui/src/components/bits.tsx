import { Anchor, Badge, Group, Title, type MantineColor } from "@mantine/core";
import type { ReactNode } from "react";
import { label } from "./format";

const COLORS: Record<string, MantineColor> = {
  pending: "yellow",
  assigned: "blue",
  in_progress: "indigo",
  completed: "green",
  cancelled: "gray",
  active: "green",
  draft: "gray",
  archived: "dark",
  paid: "teal",
  pending_payment: "yellow",
  failed: "red",
  expired: "gray",
  grace: "orange",
  past_due: "red",
  succeeded: "green",
  open: "yellow",
  taken: "blue",
  closed: "gray",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={COLORS[status] ?? "gray"} variant="light" data-testid="status">
      {label(status)}
    </Badge>
  );
}

/** A link to the entity's workflow in the Temporal Web UI (the API says where it is). */
export function WorkflowLink({ url, id }: { url?: string | null; id?: string | null }) {
  const href =
    url ?? (id ? `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(id)}` : null);
  if (!href) return null;
  return (
    <Anchor href={href} target="_blank" rel="noreferrer" size="sm" data-testid="workflow-link">
      Workflow ↗
    </Anchor>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap">
      <Title order={1} size="h2">
        {title}
      </Title>
      <Group gap="sm">{children}</Group>
    </Group>
  );
}
