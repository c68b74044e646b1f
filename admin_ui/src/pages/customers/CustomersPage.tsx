// Customers: search by name, email or phone; open one for their plans, orders, requests, calls.
import { Anchor, Group, Pagination, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { PageHeader } from "../../components/bits";
import { day } from "../../components/format";
import { Empty, ErrorState, Loading } from "../../components/States";

const LIMIT = 25;

export function CustomersPage() {
  const [q, setQ] = useState("");
  const [search] = useDebouncedValue(q, 300);
  const [page, setPage] = useState(1);
  const list = useQuery({
    queryKey: ["customers", search, page],
    queryFn: () => unwrap(api.GET("/api/v1/admin/users", { params: { query: { role: "customer", q: search || undefined, limit: LIMIT, offset: (page - 1) * LIMIT } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <PageHeader title="Customers" />
      <TextInput placeholder="Search name, email or phone" value={q} onChange={(e) => { setQ(e.currentTarget.value); setPage(1); }} maw={360} />
      {list.isPending ? <Loading what="customers" /> : list.isError ? <ErrorState what="customers" error={list.error} retry={() => list.refetch()} /> :
        list.data.items.length === 0 ? (
          <Empty title={search ? "Nobody matches" : "No customers yet"} hint={search ? "Try part of the name, the email or the phone number." : "Customers appear here when they sign up in the app."} />
        ) : (
          <>
            <Table.ScrollContainer minWidth={640}>
              <Table striped highlightOnHover data-testid="customers-table">
                <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Email</Table.Th><Table.Th>Phone</Table.Th><Table.Th>Since</Table.Th></Table.Tr></Table.Thead>
                <Table.Tbody>
                  {list.data.items.map((u) => (
                    <Table.Tr key={u.id}>
                      <Table.Td><Anchor component={Link} to={`/customers/${u.id}`}>{u.name ?? "(no name)"}</Anchor></Table.Td>
                      <Table.Td>{u.email ?? "—"}</Table.Td>
                      <Table.Td>{u.phone ? <a href={`tel:${u.phone}`}>{u.phone}</a> : "—"}</Table.Td>
                      <Table.Td>{day(u.created_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Group justify="space-between">
              <Text size="sm" c="dimmed">{list.data.total} customers</Text>
              <Pagination total={Math.max(1, Math.ceil(list.data.total / LIMIT))} value={page} onChange={setPage} />
            </Group>
          </>
        )}
    </Stack>
  );
}
