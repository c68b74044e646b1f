// Every service request, filtered (status, SLA flags, zone), the soonest window first.
import { Anchor, Badge, Checkbox, Group, Pagination, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { PageHeader, StatusBadge, WorkflowLink } from "../../components/bits";
import { span } from "../../components/format";
import { Empty, ErrorState, Loading } from "../../components/States";

const LIMIT = 25;
type Status = Schemas["RequestStatus"];
const STATUSES: Status[] = ["pending", "assigned", "in_progress", "completed", "cancelled"];

export function SlaFlags({ r }: { r: { escalated: boolean; overdue: boolean } }) {
  return (
    <Group gap={4}>
      {r.escalated && (
        <Badge color="orange" size="sm" data-testid="flag-escalated">
          Escalated
        </Badge>
      )}
      {r.overdue && (
        <Badge color="red" size="sm" data-testid="flag-overdue">
          Overdue
        </Badge>
      )}
    </Group>
  );
}

export function RequestsPage() {
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") as Status | null) ?? undefined;
  const escalated = params.get("escalated") === "true" ? true : undefined;
  const overdue = params.get("overdue") === "true" ? true : undefined;
  const zone = params.get("zone") ?? "";
  const page = Number(params.get("page") ?? "1");

  const set = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    if (key !== "page") next.delete("page");
    setParams(next, { replace: true });
  };

  const query = useQuery({
    queryKey: ["requests", { status, escalated, overdue, zone, page }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/admin/service-requests", {
          params: {
            query: {
              status,
              escalated,
              overdue,
              zone: zone.length >= 3 ? zone : undefined,
              limit: LIMIT,
              offset: (page - 1) * LIMIT,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });

  return (
    <Stack>
      <PageHeader title="Service requests" />
      <Group align="end" wrap="wrap">
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={STATUSES.map((s) => ({ value: s, label: s.replace("_", " ") }))}
          value={status ?? null}
          onChange={(v) => set("status", v)}
          w={180}
        />
        <TextInput label="Postal code" placeholder="e.g. 560001" value={zone} onChange={(e) => set("zone", e.currentTarget.value)} w={160} />
        <Checkbox label="Escalated" checked={!!escalated} onChange={(e) => set("escalated", e.currentTarget.checked ? "true" : null)} />
        <Checkbox label="Overdue" checked={!!overdue} onChange={(e) => set("overdue", e.currentTarget.checked ? "true" : null)} />
      </Group>
      {query.isPending ? (
        <Loading what="service requests" />
      ) : query.isError ? (
        <ErrorState what="service requests" error={query.error} retry={() => query.refetch()} />
      ) : query.data.items.length === 0 ? (
        <Empty
          title="No service requests here"
          hint={params.size ? "Nothing matches these filters: clear some to see more." : "Customers ask for visits from the app; they appear here as they do."}
        />
      ) : (
        <>
          <Table.ScrollContainer minWidth={760}>
            <Table striped highlightOnHover data-testid="requests-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Window</Table.Th>
                  <Table.Th>Customer</Table.Th>
                  <Table.Th>Category</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>SLA</Table.Th>
                  <Table.Th>Technician</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {query.data.items.map((r) => (
                  <Table.Tr key={r.id} data-testid="request-row">
                    <Table.Td>
                      <Anchor component={Link} to={`/requests/${r.id}`}>
                        {span(r.window_start, r.window_end)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{r.customer.name ?? r.customer.email ?? r.customer.phone}</Table.Td>
                    <Table.Td>{r.category.name}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={r.status} />
                    </Table.Td>
                    <Table.Td>
                      <SlaFlags r={r} />
                    </Table.Td>
                    <Table.Td>{r.technician?.name ?? <Text c="dimmed" size="sm">—</Text>}</Table.Td>
                    <Table.Td>
                      <WorkflowLink url={(r as { workflow_url?: string }).workflow_url} id={r.workflow_id} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {query.data.total} requests
            </Text>
            <Pagination total={Math.max(1, Math.ceil(query.data.total / LIMIT))} value={page} onChange={(p) => set("page", String(p))} />
          </Group>
        </>
      )}
    </Stack>
  );
}
