// Reports for a period of business days (presets: today, the last 7 or 30 days, this month; or
// any range), kept in the URL: revenue by day, plan, category or payment method; activity (new
// users, requests by status, time to assign and to complete); CSV export; the stored daily reports.
import { BarChart } from "@mantine/charts";
import { Button, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, json, unwrap, type Schemas } from "../api/client";
import { download } from "../api/download";
import { PageHeader } from "../components/bits";
import { DataList, type Column } from "../components/DataList";
import { amount, label, major } from "../components/format";
import { count } from "../components/Paged";
import { Empty, Refused } from "../components/States";
import { Loaded } from "../components/Loaded";
import { PRESETS, dayLabel, periodLabel, preset, presetOf, shortDay, today, type Period, type Preset } from "./reports/period";
import { keys } from "../queryKeys";

type GroupBy = Schemas["GroupBy"];
type Row = Schemas["RevenueRow"];
const GROUPS: { value: GroupBy; label: string }[] = [
  { value: "day", label: "By day" },
  { value: "plan", label: "Plan" },
  { value: "category", label: "Category" },
  { value: "method", label: "Method" },
];

/** One of a few choices as buttons that wrap on a phone (the chosen one pressed). */
function Choices({ label: name, value, onChange, data }: { label: string; value: string | null; onChange: (v: string) => void; data: { value: string; label: string }[] }) {
  return (
    <Group gap={6} role="group" aria-label={name}>
      {data.map((d) => (
        <Button key={d.value} size="xs" variant={d.value === value ? "filled" : "default"} aria-pressed={d.value === value} onClick={() => onChange(d.value)}>
          {d.label}
        </Button>
      ))}
    </Group>
  );
}

function minutes(m: number | null | undefined): string {
  if (m === null || m === undefined) return "—";
  return m >= 120 ? `${(m / 60).toFixed(1)} h` : `${Math.round(m)} min`;
}

const REVENUE: Column<Row>[] = [
  { label: "Row", primary: true, render: (r) => r.label || r.key },
  { label: "Orders", render: (r) => r.orders.toLocaleString("en-IN") },
  { label: "Gross", render: (r) => amount(r.amount) },
  { label: "Refunds", render: (r) => amount(r.refunds) },
  { label: "Net", render: (r) => amount(r.net) },
];

function Revenue({ period }: { period: Period }) {
  const [groupBy, setGroupBy] = useState<GroupBy>("day");
  const params = { ...period, group_by: groupBy };
  const rows = useQuery({
    queryKey: keys.reports.revenue(params),
    queryFn: () => unwrap(api.GET("/api/v1/admin/reports/revenue", { params: { query: params } })).then(json),
  });
  const csv = useMutation({ mutationFn: () => download("/admin/reports/revenue", { ...params, format: "csv" }, `revenue-${groupBy}-${period.since}-${period.until}.csv`) });
  const list = rows.data?.rows ?? [];
  const totals = rows.data?.totals ?? [];
  const columns = [{ ...REVENUE[0], label: GROUPS.find((g) => g.value === groupBy)?.label.replace("By day", "Day") ?? "Row" }, ...REVENUE.slice(1)];
  return (
    <Card withBorder data-testid="revenue-report">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={2} size="h4">Revenue</Title>
        <Group wrap="wrap">
          <Choices label="Group revenue" value={groupBy} onChange={(v) => setGroupBy(v as GroupBy)} data={GROUPS} />
          <Button variant="default" onClick={() => csv.mutate()} loading={csv.isPending}>Export CSV</Button>
        </Group>
      </Group>
      <Refused error={csv.error} />
      <Loaded query={rows} what="revenue">
        {() =>
          list.length === 0 ? <Empty title="No revenue in this period" hint="Pick a longer period, or wait for the first sales." /> : (
            <Stack>
              <BarChart
                h={220}
                withLegend
                legendProps={{ verticalAlign: "bottom" }}
                data={list.map((r) => ({ label: groupBy === "day" ? shortDay(r.key) : r.label || r.key, Net: major(r.net), Refunds: major(r.refunds) }))}
                dataKey="label"
                series={[{ name: "Net", color: "teal.6" }, { name: "Refunds", color: "red.6" }]}
              />
              <DataList caption="Revenue" rows={list} columns={columns} rowKey={(r) => `${r.key}-${r.currency}`} />
              {totals.map((t) => (
                <Text key={`total-${t.currency}`} size="sm" fw={600} data-testid="revenue-total">
                  Total{totals.length > 1 ? ` (${t.currency})` : ""}: {count(t.orders, "order")} · gross {amount(t.amount)} · refunds {amount(t.refunds)} · net {amount(t.net)}
                </Text>
              ))}
            </Stack>
          )
        }
      </Loaded>
    </Card>
  );
}

function ActivityCard({ period }: { period: Period }) {
  const activity = useQuery({
    queryKey: keys.reports.activity(period),
    queryFn: () => unwrap(api.GET("/api/v1/admin/reports/activity", { params: { query: period } })).then(json),
  });
  const csv = useMutation({ mutationFn: () => download("/admin/reports/activity", { ...period, format: "csv" }, `activity-${period.since}-${period.until}.csv`) });
  return (
    <Card withBorder data-testid="activity-report">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">Activity</Title>
        <Button variant="default" onClick={() => csv.mutate()} loading={csv.isPending}>Export CSV</Button>
      </Group>
      <Refused error={csv.error} />
      <Loaded query={activity} what="activity">
        {(data) => (
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <div>
              <Text fw={600} size="sm">New users by day</Text>
              {data.new_users_by_day.every((d) => d.count === 0) ? <Text size="sm" c="dimmed">None in this period.</Text> :
                <BarChart h={160} withLegend legendProps={{ verticalAlign: "bottom" }} data={data.new_users_by_day.map((d) => ({ day: shortDay(d.day), "New users": d.count }))} dataKey="day" series={[{ name: "New users", color: "blue.6" }]} />}
            </div>
            <div>
              <Text fw={600} size="sm">Requests by status</Text>
              {Object.keys(data.requests_by_status).length === 0 ? <Text size="sm" c="dimmed">None asked for in this period.</Text> :
                Object.entries(data.requests_by_status).map(([s, n]) => <Text key={s} size="sm">{label(s)}: {n}</Text>)}
            </div>
            <div>
              <Text fw={600} size="sm">Time to assign</Text>
              <Text size="sm">median {minutes(data.time_to_assign.p50_minutes)} · mean {minutes(data.time_to_assign.avg_minutes)}</Text>
              <Text fw={600} size="sm" mt="xs">Time to complete</Text>
              <Text size="sm">median {minutes(data.time_to_complete.p50_minutes)} · mean {minutes(data.time_to_complete.avg_minutes)}</Text>
            </div>
          </SimpleGrid>
        )}
      </Loaded>
    </Card>
  );
}

function Daily() {
  const list = useQuery({ queryKey: keys.reports.daily, queryFn: () => unwrap(api.GET("/api/v1/admin/reports/daily")) });
  const csv = useMutation({ mutationFn: (d: string) => download(`/admin/reports/daily/${d}`, { format: "csv" }, `daily-${d}.csv`) });
  const items = list.data?.items ?? [];
  return (
    <Card withBorder data-testid="daily-reports">
      <Title order={2} size="h4" mb="sm">Daily reports</Title>
      <Refused error={csv.error} />
      <Loaded query={list} what="daily reports">
        {() =>
          items.length === 0 ? <Empty title="No daily report yet" hint="The schedule makes one each night (and emails it to admins); the first appears after the first night." /> :
            <Group gap="xs">{items.map((r) => <Button key={r.day} size="xs" variant="default" onClick={() => csv.mutate(r.day)}>{dayLabel(r.day)} (CSV)</Button>)}</Group>
        }
      </Loaded>
    </Card>
  );
}

/** The period in the URL (`?since=2026-11-01&until=2026-11-30`); the last 30 days by default. */
function usePeriod(): [Period, (p: Period) => void] {
  const [params, setParams] = useSearchParams();
  const fallback = preset("30d");
  const since = params.get("since");
  const until = params.get("until");
  const valid = (d: string | null) => !!d && /^\d{4}-\d{2}-\d{2}$/.test(d);
  const period = valid(since) && valid(until) && since! <= until! ? { since: since!, until: until! } : fallback;
  return [period, (p) => setParams({ since: p.since, until: p.until }, { replace: true })];
}

export function ReportsPage() {
  const [period, setPeriod] = usePeriod();
  const chosen = presetOf(period);
  const [range, setRange] = useState<[string | null, string | null]>([period.since, period.until]);
  return (
    <Stack>
      <PageHeader title="Reports" />
      <Group align="end" wrap="wrap">
        <Choices
          label="Period"
          value={chosen}
          onChange={(v) => { const p = preset(v as Preset); setPeriod(p); setRange([p.since, p.until]); }}
          data={PRESETS}
        />
        <DatePickerInput
          type="range"
          label="Or pick days"
          valueFormat="ddd D MMM YYYY"
          value={range}
          maxDate={today()}
          onChange={(v) => {
            const [a, b] = v as [string | null, string | null];
            setRange([a, b]);
            if (a && b) setPeriod({ since: a.slice(0, 10), until: b.slice(0, 10) });
          }}
          w={260}
          maw="100%"
        />
      </Group>
      <Text size="sm" data-testid="period">
        {periodLabel(period)} <Text span c="dimmed" size="sm">(business days)</Text>
      </Text>
      <Revenue period={period} />
      <ActivityCard period={period} />
      <Daily />
    </Stack>
  );
}
