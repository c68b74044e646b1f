// Every admin change: who, when, what, on which entity, why; filtered.
import { Code, Group, Pagination, Stack, Table, Text, TextInput } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { PageHeader } from "../components/bits";
import { dayStart, when } from "../components/format";
import { Empty, ErrorState, Loading } from "../components/States";

const LIMIT = 50;

/** The start of a picked day in the business's zone (the next day's start for the period's end). */
function isoDay(d: Date | string | null, end = false): string | undefined {
  if (!d) return undefined;
  const date = typeof d === "string" ? d.slice(0, 10) : d.toISOString().slice(0, 10);
  const next = new Date(`${date}T12:00:00Z`);
  if (end) next.setUTCDate(next.getUTCDate() + 1);
  return dayStart(next.toISOString().slice(0, 10));
}

export function AuditPage() {
  const [action, setAction] = useState("");
  const [entityType, setEntityType] = useState("");
  const [entityId, setEntityId] = useState("");
  const [range, setRange] = useState<[string | null, string | null]>([null, null]);
  const [page, setPage] = useState(1);
  const [filters] = useDebouncedValue({ action, entityType, entityId }, 300);
  const list = useQuery({
    queryKey: ["audit", filters, range, page],
    queryFn: () =>
      unwrap(api.GET("/api/v1/admin/audit", {
        params: {
          query: {
            action: filters.action.trim() || undefined,
            entity_type: filters.entityType.trim() || undefined,
            entity_id: filters.entityId.trim() || undefined,
            since: isoDay(range[0]),
            until: isoDay(range[1], true),
            limit: LIMIT,
            offset: (page - 1) * LIMIT,
          },
        },
      })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <PageHeader title="Audit log" />
      <Group align="end" wrap="wrap">
        <TextInput label="Action" placeholder="e.g. plan.publish" value={action} onChange={(e) => { setAction(e.currentTarget.value); setPage(1); }} w={180} />
        <TextInput label="Entity type" placeholder="e.g. plan" value={entityType} onChange={(e) => { setEntityType(e.currentTarget.value); setPage(1); }} w={150} />
        <TextInput label="Entity id" value={entityId} onChange={(e) => { setEntityId(e.currentTarget.value); setPage(1); }} w={200} />
        <DatePickerInput type="range" label="Between" placeholder="Any time" clearable value={range} onChange={(v) => { setRange(v as [string | null, string | null]); setPage(1); }} w={240} />
      </Group>
      {list.isPending ? <Loading what="the audit log" /> : list.isError ? <ErrorState what="the audit log" error={list.error} retry={() => list.refetch()} /> :
        list.data.items.length === 0 ? <Empty title="Nothing recorded here" hint="Every admin change is recorded; widen the filters to see more." /> : (
          <>
            <Table.ScrollContainer minWidth={800}>
              <Table striped data-testid="audit-table">
                <Table.Thead><Table.Tr><Table.Th>When</Table.Th><Table.Th>Who</Table.Th><Table.Th>Action</Table.Th><Table.Th>Entity</Table.Th><Table.Th>Reason / detail</Table.Th></Table.Tr></Table.Thead>
                <Table.Tbody>
                  {list.data.items.map((e) => (
                    <Table.Tr key={e.id}>
                      <Table.Td>{when(e.at)}</Table.Td>
                      <Table.Td>{e.actor_name ?? e.actor_id?.slice(0, 8) ?? "system"}</Table.Td>
                      <Table.Td><Code>{e.action}</Code></Table.Td>
                      <Table.Td>{e.entity_type} <Text span size="xs" c="dimmed">{e.entity_id.slice(0, 8)}</Text></Table.Td>
                      <Table.Td maw={360}>
                        {e.reason && <Text size="sm">{e.reason}</Text>}
                        {Object.keys(e.detail).length > 0 && <Text size="xs" c="dimmed" lineClamp={2}>{JSON.stringify(e.detail)}</Text>}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Group justify="space-between">
              <Text size="sm" c="dimmed">{list.data.total} entries</Text>
              <Pagination total={Math.max(1, Math.ceil(list.data.total / LIMIT))} value={page} onChange={setPage} />
            </Group>
          </>
        )}
    </Stack>
  );
}
