// Reports for a chosen period: revenue by day, plan, category or payment method; activity (new
// users, requests by status, time to assign and to complete); CSV export; the stored daily reports.
import { BarChart } from "@mantine/charts";
import { Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, json, unwrap, type Schemas } from "../api/client";
import { download } from "../api/download";
import { PageHeader } from "../components/bits";
import { amount, label, major } from "../components/format";
import { Empty, ErrorState, Loading, Refused } from "../components/States";

type GroupBy = Schemas["GroupBy"];

function isoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function lastDays(n: number): [string, string] {
  const until = new Date();
  const since = new Date();
  since.setDate(since.getDate() - (n - 1));
  return [isoDate(since), isoDate(until)];
}

function minutes(m: number | null | undefined): string {
  if (m === null || m === undefined) return "—";
  return m >= 120 ? `${(m / 60).toFixed(1)} h` : `${Math.round(m)} min`;
}

function Revenue({ since, until }: { since: string; until: string }) {
  const [groupBy, setGroupBy] = useState<GroupBy>("day");
  const params = { since, until, group_by: groupBy };
  const rows = useQuery({
    queryKey: ["reports", "revenue", params],
    queryFn: () => unwrap(api.GET("/api/v1/admin/reports/revenue", { params: { query: params } })).then(json),
  });
  const csv = useMutation({ mutationFn: () => download("/admin/reports/revenue", { ...params, format: "csv" }, `revenue-${groupBy}-${since}-${until}.csv`) });
  const list = rows.data?.rows ?? [];
  const totals = rows.data?.totals ?? [];
  return (
    <Card withBorder data-testid="revenue-report">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={4}>Revenue</Title>
        <Group>
          <SegmentedControl value={groupBy} onChange={(v) => setGroupBy(v as GroupBy)} data={[{ value: "day", label: "By day" }, { value: "plan", label: "Plan" }, { value: "category", label: "Category" }, { value: "method", label: "Method" }]} />
          <Button variant="light" onClick={() => csv.mutate()} loading={csv.isPending}>Export CSV</Button>
        </Group>
      </Group>
      <Refused error={csv.error} />
      {rows.isPending ? <Loading what="revenue" /> : rows.isError ? <ErrorState what="revenue" error={rows.error} retry={() => rows.refetch()} /> :
        list.length === 0 ? <Empty title="No revenue in this period" hint="Pick a longer period, or wait for the first sales." /> : (
          <Stack>
            <BarChart h={220} data={list.map((r) => ({ label: r.label || r.key, Net: major(r.net), Refunds: major(r.refunds) }))} dataKey="label" series={[{ name: "Net", color: "teal.6" }, { name: "Refunds", color: "red.5" }]} />
            <Table.ScrollContainer minWidth={560}>
              <Table striped>
                <Table.Thead><Table.Tr><Table.Th>{label(groupBy)}</Table.Th><Table.Th>Orders</Table.Th><Table.Th>Amount</Table.Th><Table.Th>Refunds</Table.Th><Table.Th>Net</Table.Th></Table.Tr></Table.Thead>
                <Table.Tbody>
                  {list.map((r) => (
                    <Table.Tr key={`${r.key}-${r.currency}`}><Table.Td>{r.label || r.key}</Table.Td><Table.Td>{r.orders}</Table.Td><Table.Td>{amount(r.amount)}</Table.Td><Table.Td>{amount(r.refunds)}</Table.Td><Table.Td>{amount(r.net)}</Table.Td></Table.Tr>
                  ))}
                </Table.Tbody>
                <Table.Tfoot>
                  {totals.map((t) => (
                    <Table.Tr key={`total-${t.currency}`} fw={600} data-testid="revenue-total"><Table.Td>Total{totals.length > 1 ? ` (${t.currency})` : ""}</Table.Td><Table.Td>{t.orders}</Table.Td><Table.Td>{amount(t.amount)}</Table.Td><Table.Td>{amount(t.refunds)}</Table.Td><Table.Td>{amount(t.net)}</Table.Td></Table.Tr>
                  ))}
                </Table.Tfoot>
              </Table>
            </Table.ScrollContainer>
          </Stack>
        )}
    </Card>
  );
}

function ActivityCard({ since, until }: { since: string; until: string }) {
  const params = { since, until };
  const activity = useQuery({
    queryKey: ["reports", "activity", params],
    queryFn: () => unwrap(api.GET("/api/v1/admin/reports/activity", { params: { query: params } })).then(json),
  });
  const csv = useMutation({ mutationFn: () => download("/admin/reports/activity", { ...params, format: "csv" }, `activity-${since}-${until}.csv`) });
  return (
    <Card withBorder data-testid="activity-report">
      <Group justify="space-between" mb="sm">
        <Title order={4}>Activity</Title>
        <Button variant="light" onClick={() => csv.mutate()} loading={csv.isPending}>Export CSV</Button>
      </Group>
      <Refused error={csv.error} />
      {activity.isPending ? <Loading what="activity" /> : activity.isError ? <ErrorState what="activity" error={activity.error} retry={() => activity.refetch()} /> : (
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          <div>
            <Text fw={600} size="sm">New users by day</Text>
            {activity.data.new_users_by_day.every((d) => d.count === 0) ? <Text size="sm" c="dimmed">None in this period.</Text> :
              <BarChart h={160} data={activity.data.new_users_by_day.map((d) => ({ day: d.day.slice(5), Users: d.count }))} dataKey="day" series={[{ name: "Users", color: "blue.6" }]} />}
          </div>
          <div>
            <Text fw={600} size="sm">Requests by status</Text>
            {Object.keys(activity.data.requests_by_status).length === 0 ? <Text size="sm" c="dimmed">None asked for in this period.</Text> :
              Object.entries(activity.data.requests_by_status).map(([s, n]) => <Text key={s} size="sm">{label(s)}: {n}</Text>)}
          </div>
          <div>
            <Text fw={600} size="sm">Time to assign</Text>
            <Text size="sm">median {minutes(activity.data.time_to_assign.p50_minutes)} · mean {minutes(activity.data.time_to_assign.avg_minutes)}</Text>
            <Text fw={600} size="sm" mt="xs">Time to complete</Text>
            <Text size="sm">median {minutes(activity.data.time_to_complete.p50_minutes)} · mean {minutes(activity.data.time_to_complete.avg_minutes)}</Text>
          </div>
        </SimpleGrid>
      )}
    </Card>
  );
}

function Daily() {
  const list = useQuery({ queryKey: ["reports", "daily"], queryFn: () => unwrap(api.GET("/api/v1/admin/reports/daily")) });
  const csv = useMutation({ mutationFn: (d: string) => download(`/admin/reports/daily/${d}`, { format: "csv" }, `daily-${d}.csv`) });
  const items = list.data?.items ?? [];
  return (
    <Card withBorder data-testid="daily-reports">
      <Title order={4} mb="sm">Daily reports</Title>
      <Refused error={csv.error} />
      {list.isPending ? <Loading what="daily reports" /> : list.isError ? <ErrorState what="daily reports" error={list.error} retry={() => list.refetch()} /> :
        items.length === 0 ? <Empty title="No daily report yet" hint="The schedule makes one each night (and emails it to admins); the first appears after the first night." /> :
          <Group gap="xs">{items.map((r) => <Button key={r.day} size="xs" variant="default" onClick={() => csv.mutate(r.day)}>{r.day} CSV</Button>)}</Group>}
    </Card>
  );
}

export function ReportsPage() {
  const [range, setRange] = useState<[string | null, string | null]>(lastDays(30));
  const [since, until] = range[0] && range[1] ? [range[0], range[1]] : lastDays(30);
  return (
    <Stack>
      <PageHeader title="Reports">
        <DatePickerInput type="range" label="Period" value={range} onChange={(v) => setRange(v as [string | null, string | null])} maxDate={new Date()} w={260} />
      </PageHeader>
      <Revenue since={since} until={until} />
      <ActivityCard since={since} until={until} />
      <Daily />
    </Stack>
  );
}
