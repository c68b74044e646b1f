// One customer: profile with a tel: link, subscriptions, orders, service requests (each with its
// workflow), the call log (and logging a call) and their callbacks.
import { Anchor, Button, Card, Grid, Group, Select, Stack, Text, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { PageHeader, StatusBadge, WorkflowLink } from "../../components/bits";
import { label, money, when } from "../../components/format";
import { DataList } from "../../components/DataList";
import { Empty, Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { keys } from "../../queryKeys";

type WithLink = { workflow_url?: string | null; workflow_id?: string };


function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">{title}</Title>
      {children}
    </Card>
  );
}

function Calls({ userId, phone }: { userId: string; phone: string | null }) {
  const queries = useQueryClient();
  const [outcome, setOutcome] = useState<Schemas["CallOutcome"]>("reached");
  const [purpose, setPurpose] = useState<Schemas["CallPurpose"]>("support");
  const [notes, setNotes] = useState("");
  const calls = useQuery({
    queryKey: keys.customers.calls(userId),
    queryFn: () => unwrap(api.GET("/api/v1/admin/users/{user_id}/calls", { params: { path: { user_id: userId }, query: { limit: 20 } } })),
  });
  const log = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/users/{user_id}/calls", { params: { path: { user_id: userId } }, body: { outcome, purpose, direction: "outbound", notes: notes || null } })),
    onSuccess: () => { setNotes(""); void queries.invalidateQueries({ queryKey: keys.customers.calls(userId) }); },
  });
  return (
    <Section title="Call log">
      <Stack gap="xs">
        {phone && <Button component="a" href={`tel:${phone}`} variant="light" w="fit-content" data-testid="call-customer">Call {phone}</Button>}
        <Group align="end" wrap="wrap">
          <Select label="Outcome" w={150} value={outcome} onChange={(v) => v && setOutcome(v as never)} data={["reached", "no_answer", "busy", "voicemail", "wrong_number", "failed"].map((v) => ({ value: v, label: label(v) }))} />
          <Select label="Purpose" w={150} value={purpose} onChange={(v) => v && setPurpose(v as never)} data={["support", "billing", "service", "callback", "verification", "other"].map((v) => ({ value: v, label: label(v) }))} />
          <Textarea label="Notes" autosize minRows={1} value={notes} onChange={(e) => setNotes(e.currentTarget.value)} style={{ flex: 1 }} miw={200} />
          <Button onClick={() => log.mutate()} loading={log.isPending}>Log the call</Button>
        </Group>
        <Refused error={log.error} />
        <Loaded query={calls} what="calls" retry={false}>
          {(data) =>
            data.items.length === 0 ? <Text size="sm" c="dimmed">No calls logged yet. After calling, log what happened above.</Text> :
              data.items.map((c) => (
                <Text key={c.id} size="sm">{when(c.called_at)} · {label(c.direction)} · {label(c.outcome)} · {label(c.purpose)} · {c.staff.name ?? ""}{c.notes ? ` — ${c.notes}` : ""}</Text>
              ))
          }
        </Loaded>
      </Stack>
    </Section>
  );
}

export function CustomerPage() {
  const { id = "" } = useParams();
  const user = useQuery({ queryKey: keys.customers.one(id), queryFn: () => unwrap(api.GET("/api/v1/admin/users/{user_id}", { params: { path: { user_id: id } } })) });
  const subscriptions = useQuery({ queryKey: keys.customers.subscriptions(id), queryFn: () => unwrap(api.GET("/api/v1/admin/subscriptions", { params: { query: { user_id: id, limit: 50 } } })) });
  const orders = useQuery({ queryKey: keys.customers.orders(id), queryFn: () => unwrap(api.GET("/api/v1/admin/orders", { params: { query: { user_id: id, limit: 50 } } })) });
  const callbacks = useQuery({ queryKey: keys.customers.callbacks(id), queryFn: () => unwrap(api.GET("/api/v1/admin/callbacks", { params: { query: { user_id: id, limit: 20 } } })) });
  const overview = useQuery({ queryKey: keys.customers.overview(id), queryFn: () => unwrap(api.GET("/api/v1/admin/users/{user_id}/overview", { params: { path: { user_id: id } } })) });

  return (
    <Loaded query={user} what="the customer">
      {(u) => (
        <Stack>
          <PageHeader title={u.name ?? u.email ?? "Customer"} />
          <Grid>
            <Grid.Col span={{ base: 12, md: 4 }}>
              <Section title="Profile">
                <Text size="sm">{u.email ?? "no email"} {u.email_verified ? "(verified)" : ""}</Text>
                <Text size="sm">{u.phone ? <Anchor href={`tel:${u.phone}`}>{u.phone}</Anchor> : "no phone"} {u.phone_verified ? "(verified)" : ""}</Text>
                <Text size="sm" c="dimmed">Customer since {when(u.created_at)}{u.is_active ? "" : " · deactivated"}</Text>
              </Section>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 8 }}>
              <Section title="Subscriptions">
                <Loaded query={subscriptions} what="subscriptions" retry={false}>
                  {(data) =>
                    data.items.length === 0 ? <Text size="sm" c="dimmed">No plans bought yet.</Text> : (
                      <DataList
                        caption="Subscriptions"
                        testId="customer-subscriptions"
                        rows={data.items}
                        rowKey={(x) => x.id}
                        columns={[
                          { label: "Plan", render: (x) => x.plan.name },
                          { label: "Status", render: (x) => <StatusBadge status={x.status} /> },
                          { label: "Visits", render: (x) => `${x.visits.used} of ${x.visits.allowed} used` },
                          { label: "Until", render: (x) => when(x.ends_at) },
                        ]}
                        actions={(x) => <WorkflowLink url={(x as WithLink).workflow_url} id={x.workflow_id} />}
                      />
                    )
                  }
                </Loaded>
              </Section>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Section title="Orders">
                <Loaded query={orders} what="orders" retry={false}>
                  {(data) =>
                    data.items.length === 0 ? <Text size="sm" c="dimmed">No orders.</Text> : (
                      <DataList
                        caption="Orders"
                        testId="customer-orders"
                        rowTestId="customer-order"
                        rows={data.items}
                        rowKey={(o) => o.id}
                        columns={[
                          { label: "Order", render: (o) => <span data-testid="order-number">{o.number}</span> },
                          { label: "Placed", render: (o) => when(o.created_at) },
                          { label: "Total", render: (o) => money(o.total_minor, o.currency) + (o.receipt_number ? ` · receipt ${o.receipt_number}` : "") },
                          { label: "Status", render: (o) => <StatusBadge status={o.status} /> },
                        ]}
                        actions={(o) => <WorkflowLink url={(o as WithLink).workflow_url} id={`checkout:${o.id}`} />}
                      />
                    )
                  }
                </Loaded>
              </Section>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Section title="Service requests">
                <Loaded query={overview} what="requests" retry={false}>
                  {(data) =>
                    !data.service_requests.items.length ? <Text size="sm" c="dimmed">No visits asked for.</Text> :
                      data.service_requests.items.map((r) => (
                        <Group key={r.id} gap="xs">
                          <Anchor component={Link} to={`/requests/${r.id}`} size="sm">{r.number} · {when(r.window_start)} · {r.category?.name}</Anchor>
                          <StatusBadge status={r.status} />
                          <WorkflowLink url={(r as WithLink).workflow_url} id={r.workflow_id} />
                        </Group>
                      ))
                  }
                </Loaded>
              </Section>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 7 }}><Calls userId={id} phone={u.phone} /></Grid.Col>
            <Grid.Col span={{ base: 12, md: 5 }}>
              <Section title="Callbacks">
                <Loaded query={callbacks} what="callbacks" retry={false}>
                  {(data) =>
                    data.items.length === 0 ? <Empty title="No callbacks" hint="When the customer asks to be called back from the app, it shows here." /> :
                      data.items.map((c) => (
                        <Group key={c.id} gap="xs">
                          <Text size="sm">{when(c.created_at)} · {label(c.reason)}</Text><StatusBadge status={c.status} />
                          <Anchor size="sm" href={c.tel}>Call</Anchor>
                        </Group>
                      ))
                  }
                </Loaded>
              </Section>
            </Grid.Col>
          </Grid>
        </Stack>
      )}
    </Loaded>
  );
}
