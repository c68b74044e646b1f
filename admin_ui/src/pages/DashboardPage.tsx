// Today's and this month's sales, subscriptions, new users, requests; charts by day. Live: the
// stream's `dashboard` events replace the numbers as they change, without a reload.
import { AreaChart, BarChart } from "@mantine/charts";
import { Badge, Card, Group, SimpleGrid, Stack, Text, Title, Tooltip } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { follow, type LiveState } from "@homeplans/web-common/sse";
import { authedFetch } from "../api/session";
import { PageHeader } from "../components/bits";
import { amount, major, when } from "../components/format";
import { Empty, ErrorState, Loading } from "../components/States";

type Dashboard = Schemas["Dashboard"];
type Sales = Schemas["Sales"];

const KEY = ["dashboard"];
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** "3 orders", and what was sold in other currencies than the dashboard's. */
function salesHint(sales: Sales, currency: string): string {
  const others = sales.by_currency.filter((c) => c.amount.currency !== currency && c.count > 0);
  const also = others.map((c) => `${amount(c.amount)} (${plural(c.count, "order")})`).join(", ");
  return plural(sales.count, "order") + (also ? ` · also ${also}` : "");
}

function useLiveDashboard(enabled: boolean): LiveState {
  const queries = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    if (!enabled) return;
    const stream = follow("/admin/dashboard/events", {
      fetch: authedFetch,
      onState: setState,
      onEvent: (event) => {
        if (event.event !== "dashboard") return;
        try {
          queries.setQueryData(KEY, JSON.parse(event.data) as Dashboard);
        } catch {
          // a malformed event: keep what is shown; the next one replaces it
        }
      },
    });
    return () => stream.stop();
  }, [enabled, queries]);
  return state;
}

function Stat({ label, value, hint, testid }: { label: string; value: string | number; hint?: string; testid: string }) {
  return (
    <Card withBorder padding="md" data-testid={testid}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={`${testid}-value`}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

const LIVE_COLOR: Record<LiveState, string> = { live: "green", connecting: "gray", reconnecting: "orange", stopped: "gray" };

export function DashboardPage() {
  const query = useQuery({ queryKey: KEY, queryFn: () => unwrap(api.GET("/api/v1/admin/dashboard")) });
  const live = useLiveDashboard(query.isSuccess);

  const header = (
    <PageHeader title="Dashboard">
      <Tooltip label={live === "live" ? "Updates as sales and requests happen" : "Reconnecting to the live updates…"}>
        <Badge color={LIVE_COLOR[live]} variant="dot" data-testid="live-state">
          {live === "live" ? "Live" : live}
        </Badge>
      </Tooltip>
    </PageHeader>
  );
  if (query.isPending) return <>{header}<Loading what="the dashboard" /></>;
  if (query.isError) return <>{header}<ErrorState what="the dashboard" error={query.error} retry={() => query.refetch()} /></>;
  const d = query.data;
  const series = d.series.map((p) => ({
    day: p.day.slice(5),
    Sales: p.sales_count,
    Revenue: major(p.sales_amount),
    "New users": p.new_users,
    Requests: p.requests_created,
  }));
  const quiet = d.series.every((p) => !p.sales_count && !p.new_users && !p.requests_created);

  return (
    <Stack>
      {header}
      <Text size="xs" c="dimmed">
        As of {when(d.as_of)} ({d.time_zone})
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 4 }}>
        <Stat testid="sales-today" label="Sales today" value={amount(d.sales.today.amount)} hint={salesHint(d.sales.today, d.currency)} />
        <Stat testid="sales-month" label="Sales this month" value={amount(d.sales.month.amount)} hint={salesHint(d.sales.month, d.currency)} />
        <Stat testid="active-subscriptions" label="Active subscriptions" value={d.active_subscriptions} />
        <Stat testid="new-users" label="New users today" value={d.new_users.today} hint={`${d.new_users.month} this month`} />
        <Stat testid="requests-open" label="Open requests" value={d.requests.open} />
        <Stat testid="requests-escalated" label="Escalated" value={d.requests.escalated} />
        <Stat testid="requests-overdue" label="Overdue" value={d.requests.overdue} />
      </SimpleGrid>
      <Group gap="xs">
        <Text size="sm" component={Link} to="/requests?escalated=true" c="blue">
          See escalated requests
        </Text>
        <Text size="sm" component={Link} to="/requests?overdue=true" c="blue">
          See overdue requests
        </Text>
      </Group>
      <Card withBorder>
        <Title order={4} mb="sm">
          Last 30 days
        </Title>
        {quiet ? (
          <Empty title="No activity in the last 30 days" hint="Sales, sign-ups and requests will be charted here as they happen." />
        ) : (
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <div>
              <Text size="sm" fw={600}>Revenue</Text>
              <AreaChart h={220} data={series} dataKey="day" series={[{ name: "Revenue", color: "teal.6" }]} curveType="monotone" />
            </div>
            <div>
              <Text size="sm" fw={600}>New users and requests</Text>
              <BarChart
                h={220}
                data={series}
                dataKey="day"
                series={[
                  { name: "New users", color: "blue.6" },
                  { name: "Requests", color: "orange.6" },
                  { name: "Sales", color: "teal.6" },
                ]}
              />
            </div>
          </SimpleGrid>
        )}
      </Card>
    </Stack>
  );
}
