// Promotions: create a draft for an audience (its size previewed), start it, follow its progress,
// pause, resume or cancel it. Support reads; admins act.
import { zodResolver } from "@hookform/resolvers/zod";
import { Alert, Button, Card, Group, NumberInput, Progress, Select, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { z } from "zod";
import { api, unwrap, type Schemas } from "../api/client";
import type { Problem } from "../api/session";
import { isAdmin, useAuth } from "../auth/AuthProvider";
import { PageHeader, StatusBadge, WorkflowLink } from "../components/bits";
import { applyFieldErrors } from "../components/fieldErrors";
import { when } from "../components/format";
import { Empty, ErrorState, Loading, Refused } from "../components/States";

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

function NewCampaign({ done }: { done: () => void }) {
  const [problems, setProblems] = useState<string[]>([]);
  const [size, setSize] = useState<number | null>(null);
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: { title: "", body: "", kind: "all", target: "", within_days: 30 } });
  const kind = form.watch("kind");
  const plans = useQuery({ queryKey: ["plans", "list", "active"], enabled: kind === "plan", queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans", { params: { query: { status: "active", limit: 100 } } })) });
  const categories = useQuery({ queryKey: ["categories"], enabled: kind === "category", queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const preview = useMutation({ mutationFn: (f: Form) => unwrap(api.POST("/api/v1/admin/campaigns/preview", { body: { audience: audienceOf(f) } })), onSuccess: (r) => setSize(r.size) });
  const create = useMutation({
    mutationFn: (f: Form) => unwrap(api.POST("/api/v1/admin/campaigns", { body: { title: f.title, body: f.body, audience: audienceOf(f) } })),
    onSuccess: () => { form.reset(); setSize(null); setProblems([]); done(); },
    onError: (e: Problem) => setProblems(applyFieldErrors(e, form.setError, ["title", "body"], (f) => f.replace(/^audience\..*$/, "target"))),
  });
  const targets = kind === "plan" ? (plans.data?.items ?? []).map((p) => ({ value: p.id, label: p.current_version.name })) : (categories.data ?? []).map((c) => ({ value: c.id, label: c.name }));
  return (
    <Card withBorder>
      <Title order={5} mb="xs">New campaign</Title>
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
            {size !== null && <Text size="sm" data-testid="audience-size">{size} people now</Text>}
          </Group>
          {problems.length > 0 && <Alert color="red">{problems.join("; ")}</Alert>}
          <Group justify="end"><Button type="submit" loading={create.isPending}>Save as draft</Button></Group>
        </Stack>
      </form>
    </Card>
  );
}

export function CampaignsPage() {
  const { user } = useAuth();
  const admin = isAdmin(user);
  const queries = useQueryClient();
  const list = useQuery({
    queryKey: ["campaigns"],
    queryFn: () => unwrap(api.GET("/api/v1/admin/campaigns", { params: { query: { limit: 50 } } })),
    // Running ones move: follow them while any is running.
    refetchInterval: (q) => (q.state.data?.items.some((c) => c.status === "running") ? 2000 : false),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ["campaigns"] });
  const move = useMutation({ mutationFn: ({ id, to }: { id: string; to: "start" | "pause" | "resume" | "cancel" }) => unwrap(api.POST(`/api/v1/admin/campaigns/{campaign_id}/${to}`, { params: { path: { campaign_id: id } } })), onSuccess: refresh });
  return (
    <Stack>
      <PageHeader title="Campaigns" />
      {admin && <NewCampaign done={refresh} />}
      <Refused error={move.error} />
      {list.isPending ? <Loading what="campaigns" /> : list.isError ? <ErrorState what="campaigns" error={list.error} retry={() => list.refetch()} /> :
        list.data.items.length === 0 ? <Empty title="No campaigns yet" hint={admin ? "Write one above: it is saved as a draft, and nobody gets anything until you start it." : "Admins create campaigns."} /> : (
          <Table.ScrollContainer minWidth={760}>
            <Table striped data-testid="campaigns-table">
              <Table.Thead><Table.Tr><Table.Th>Title</Table.Th><Table.Th>Status</Table.Th><Table.Th>Progress</Table.Th><Table.Th>Created</Table.Th><Table.Th /></Table.Tr></Table.Thead>
              <Table.Tbody>
                {list.data.items.map((c) => {
                  const pct = c.total ? Math.round(((c.sent + c.skipped) / c.total) * 100) : 0;
                  return (
                    <Table.Tr key={c.id}>
                      <Table.Td><Text fw={600} size="sm">{c.title}</Text><Text size="xs" c="dimmed" lineClamp={1}>{c.body}</Text></Table.Td>
                      <Table.Td><StatusBadge status={c.status} /></Table.Td>
                      <Table.Td miw={160}>
                        {c.total === null ? <Text size="xs" c="dimmed">not started</Text> : (<><Progress value={pct} size="sm" /><Text size="xs">{c.sent} sent, {c.skipped} skipped of {c.total}</Text></>)}
                      </Table.Td>
                      <Table.Td>{when(c.created_at)}</Table.Td>
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          {c.status !== "draft" && <WorkflowLink url={c.workflow_url} id={`campaign:${c.id}`} />}
                          {admin && c.status === "draft" && <Button size="xs" onClick={() => move.mutate({ id: c.id, to: "start" })}>Start</Button>}
                          {admin && c.status === "running" && <Button size="xs" variant="default" onClick={() => move.mutate({ id: c.id, to: "pause" })}>Pause</Button>}
                          {admin && c.status === "paused" && <Button size="xs" onClick={() => move.mutate({ id: c.id, to: "resume" })}>Resume</Button>}
                          {admin && (c.status === "running" || c.status === "paused" || c.status === "draft") && <Button size="xs" color="red" variant="subtle" onClick={() => move.mutate({ id: c.id, to: "cancel" })}>Cancel</Button>}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
    </Stack>
  );
}
