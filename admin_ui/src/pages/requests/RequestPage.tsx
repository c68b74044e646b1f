// One request: what, where, when, who; its timeline and dispatch log; the suggested technicians
// with their reasons, and the moves. A refused move shows the workflow's reason where it was made.
import { Anchor, Badge, Button, Card, Grid, Group, Stack, Table, Text, Textarea, Timeline, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { isAdmin, useAuth } from "../../auth/AuthProvider";
import { PageHeader, StatusBadge, WorkflowLink } from "../../components/bits";
import { label, span, when } from "../../components/format";
import { Empty, Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { SlaFlags } from "./RequestsPage";
import { keys } from "../../queryKeys";

type Detail = Schemas["AdminRequestDetail"];

function Suggestions({ request }: { request: Detail }) {
  const queries = useQueryClient();
  const reassign = request.status === "assigned";
  const suggestions = useQuery({
    queryKey: keys.requests.suggestions(request.id),
    queryFn: () => unwrap(api.GET("/api/v1/admin/service-requests/{request_id}/suggestions", { params: { path: { request_id: request.id } } })),
  });
  const assign = useMutation({
    mutationFn: (technicianId: string) =>
      unwrap(
        api.POST(reassign ? "/api/v1/admin/service-requests/{request_id}/reassign" : "/api/v1/admin/service-requests/{request_id}/assign", {
          params: { path: { request_id: request.id } },
          body: { technician_id: technicianId },
        }),
      ),
    onSuccess: (detail) => {
      queries.setQueryData(keys.requests.one(request.id), detail);
      void queries.invalidateQueries({ queryKey: keys.requests.all });
    },
  });

  return (
    <Card withBorder data-testid="suggestions">
      <Title order={2} size="h4" mb="xs">
        {reassign ? "Reassign to" : "Suggested technicians"}
      </Title>
      <Refused error={assign.error} />
      <Loaded query={suggestions} what="suggestions">
        {(data) =>
          data.filter((s) => s.technician_id !== request.technician?.id).length === 0 ? (
            <Empty title={reassign ? "Nobody else does this kind of job" : "Nobody does this kind of job"} hint="Add a technician with this skill on the Technicians screen, then come back." />
          ) : (
            <Stack gap="xs" mt="xs">
              {data.filter((s) => s.technician_id !== request.technician?.id).map((s) => (
                <Card key={s.technician_id} withBorder padding="sm" data-testid="suggestion">
                  <Group justify="space-between" wrap="nowrap" align="start">
                    <div>
                      <Group gap="xs">
                        <Text fw={600}>{s.name}</Text>
                        <Badge size="sm" color={s.eligible ? "green" : "gray"}>
                          {s.eligible ? `fits · ${Math.round(s.score)}` : "does not fit"}
                        </Badge>
                      </Group>
                      {(s.reasons ?? []).map((r) => (
                        <Text key={r} size="xs" c="dimmed">
                          ✓ {r}
                        </Text>
                      ))}
                      {(s.problems ?? []).map((p) => (
                        <Text key={p} size="xs" c="red">
                          ✗ {p}
                        </Text>
                      ))}
                    </div>
                    <Button
                      size="xs"
                      variant={s.eligible ? "filled" : "default"}
                      loading={assign.isPending && assign.variables === s.technician_id}
                      onClick={() => assign.mutate(s.technician_id)}
                    >
                      {reassign ? "Reassign" : "Assign"}
                    </Button>
                  </Group>
                </Card>
              ))}
            </Stack>
          )
        }
      </Loaded>
    </Card>
  );
}

function Moves({ request }: { request: Detail }) {
  const queries = useQueryClient();
  const [notes, setNotes] = useState("");
  const [reason, setReason] = useState("");
  const path = { params: { path: { request_id: request.id } } };
  const done = (detail: Detail) => {
    queries.setQueryData(keys.requests.one(request.id), detail);
    void queries.invalidateQueries({ queryKey: keys.requests.all });
  };
  const start = useMutation({ mutationFn: () => unwrap(api.POST("/api/v1/admin/service-requests/{request_id}/start", path)), onSuccess: done });
  const complete = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/service-requests/{request_id}/complete", { ...path, body: { notes: notes || null, parts_used: [] } })),
    onSuccess: done,
  });
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/service-requests/{request_id}/cancel", { ...path, body: { reason } })),
    onSuccess: done,
  });
  const error = start.error ?? complete.error ?? cancel.error;
  const open = request.status === "pending" || request.status === "assigned";

  if (request.status === "completed" || request.status === "cancelled") return null;
  return (
    <Card withBorder data-testid="moves">
      <Title order={2} size="h4" mb="xs">
        Move it on
      </Title>
      <Stack gap="sm">
        <Refused error={error} />
        {request.status === "assigned" && (
          <Group>
            <Button onClick={() => start.mutate()} loading={start.isPending}>
              Start the visit
            </Button>
          </Group>
        )}
        {request.status === "in_progress" && (
          <Stack gap="xs">
            <Textarea label="Completion notes" placeholder="What was done" value={notes} onChange={(e) => setNotes(e.currentTarget.value)} />
            <Group>
              <Button color="green" onClick={() => complete.mutate()} loading={complete.isPending}>
                Complete the visit
              </Button>
            </Group>
          </Stack>
        )}
        {open && (
          <Stack gap="xs">
            <Textarea label="Reason to cancel" placeholder="Told to the customer" value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
            <Group>
              <Button color="red" variant="light" disabled={reason.trim().length < 3} onClick={() => cancel.mutate()} loading={cancel.isPending}>
                Cancel the request
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

export function RequestPage() {
  const { id = "" } = useParams();
  const { user } = useAuth();
  const query = useQuery({
    queryKey: keys.requests.one(id),
    queryFn: () => unwrap(api.GET("/api/v1/admin/service-requests/{request_id}", { params: { path: { request_id: id } } })),
    refetchInterval: 10_000,
  });
  return (
    <Loaded query={query} what="the request">
      {(r) => {
        const admin = isAdmin(user);

        return (
          <Stack>
            <PageHeader title={`${r.number} · ${r.category.name} visit`}>
              <StatusBadge status={r.status} />
              <SlaFlags r={r} />
              <WorkflowLink url={(r as { workflow_url?: string }).workflow_url} id={r.workflow_id} />
            </PageHeader>
            <Grid>
              <Grid.Col span={{ base: 12, md: 7 }}>
                <Stack>
                  <Card withBorder>
                    <Table variant="vertical" withRowBorders={false}>
                      <Table.Tbody>
                        <Table.Tr>
                          <Table.Th w={140}>Request</Table.Th>
                          <Table.Td data-testid="request-number">{r.number}</Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Status</Table.Th>
                          <Table.Td data-testid="request-status">{label(r.status)}</Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Window</Table.Th>
                          <Table.Td>
                            {span(r.window_start, r.window_end)}
                          </Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Customer</Table.Th>
                          <Table.Td>
                            <Anchor component={Link} to={`/customers/${r.customer.id}`}>
                              {r.customer.name ?? r.customer.email}
                            </Anchor>
                            {r.customer.phone && (
                              <Anchor href={`tel:${r.customer.phone}`} ml="sm" size="sm">
                                Call {r.customer.phone}
                              </Anchor>
                            )}
                          </Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Address</Table.Th>
                          <Table.Td>{r.address}</Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Problem</Table.Th>
                          <Table.Td>{r.description}</Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Technician</Table.Th>
                          <Table.Td data-testid="request-technician">{r.technician?.name ?? "Not assigned"}</Table.Td>
                        </Table.Tr>
                        <Table.Tr>
                          <Table.Th>Plan</Table.Th>
                          <Table.Td>
                            {label(r.subscription_status)}, ends {when(r.subscription_ends_at)}
                          </Table.Td>
                        </Table.Tr>
                        {r.completion_notes && (
                          <Table.Tr>
                            <Table.Th>Notes</Table.Th>
                            <Table.Td>{r.completion_notes}</Table.Td>
                          </Table.Tr>
                        )}
                      </Table.Tbody>
                    </Table>
                  </Card>
                  <Card withBorder data-testid="timeline">
                    <Title order={2} size="h4" mb="sm">
                      Timeline
                    </Title>
                    <Timeline bulletSize={14} lineWidth={2} active={r.timeline.length}>
                      {r.timeline.map((e) => (
                        <Timeline.Item key={e.id} title={e.to_status ? label(e.to_status) : label(e.kind)}>
                          <Text size="xs" c="dimmed">
                            {when(e.at)} · {e.actor.name}
                          </Text>
                          {e.note && <Text size="sm">{e.note}</Text>}
                        </Timeline.Item>
                      ))}
                    </Timeline>
                  </Card>
                  {r.dispatch_log.length > 0 && (
                    <Card withBorder>
                      <Title order={2} size="h4" mb="sm">
                        Dispatch log
                      </Title>
                      {r.dispatch_log.map((d) => (
                        <Text key={d.at + d.technician_id} size="sm">
                          {when(d.at)} · {d.actor.name} chose {d.technician_name ?? String((d.suggested.find((s) => (s as { technician_id?: string }).technician_id === d.technician_id) as { name?: string } | undefined)?.name ?? "a technician since removed")}
                          {d.reason ? ` — ${d.reason}` : ""}
                        </Text>
                      ))}
                    </Card>
                  )}
                </Stack>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 5 }}>
                <Stack>
                  {admin ? (
                    <>
                      {(r.status === "pending" || r.status === "assigned") && <Suggestions request={r} />}
                      <Moves request={r} />
                    </>
                  ) : (
                    <Card withBorder>
                      <Text size="sm" c="dimmed">
                        Support can follow requests; assigning and moving them is for admins.
                      </Text>
                    </Card>
                  )}
                </Stack>
              </Grid.Col>
            </Grid>
          </Stack>
        );
      }}
    </Loaded>
  );
}
