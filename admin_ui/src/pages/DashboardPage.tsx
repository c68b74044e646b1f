// Today's and this month's sales beside their refunds (so net shows), subscriptions, new users,
// requests; charts by day with a legend naming each series. Live: the
// stream's `dashboard` events replace the numbers as they change, without a reload.
import { BarChart } from "@mantine/charts";
import { Badge, Card, Group, SimpleGrid, Stack, Text, Title, Tooltip } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { follow, type LiveState } from "@homeplans/web-common/sse";
import { authedFetch } from "../api/session";
import { PageHeader } from "../components/bits";
import { amount, major, when } from "../components/format";
import { Loaded } from "../components/Loaded";
import { Empty } from "../components/States";
import { shortDay } from "./reports/period";
import { keys } from "../queryKeys";

type Dashboard = Schemas["Dashboard"];
type Sales = Schemas["Sales"];

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** "3 orders · ₹500.00 refunded", and what was sold in other currencies than the dashboard's. */
function salesHint(sales: Sales, currency: string): string {
  const others = sales.by_currency.filter((c) => c.amount.currency !== currency && c.count > 0);
  const also = others.map((c) => `${amount(c.amount)} (${plural(c.count, "order")})`).join(", ");
  const refunded = sales.refunds.amount_minor ? ` · ${amount(sales.refunds)} refunded` : "";
  return plural(sales.count, "order") + refunded + (also ? ` · also ${also}` : "");
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
          queries.setQueryData(keys.dashboard, JSON.parse(event.data) as Dashboard);
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
  const query = useQuery({ queryKey: keys.dashboard, queryFn: () => unwrap(api.GET("/api/v1/admin/dashboard")) });
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
  return (
    <Stack>
      {header}
      <Loaded query={query} what="the dashboard">{(d) => <Figures d={d} />}</Loaded>
    </Stack>
  );
}

/** The dashboard's figures and charts, under its header. */
function Figures({ d }: { d: Dashboard }) {
  const series = d.series.map((p) => ({
    day: shortDay(p.day),
    "Gross sales": major(p.sales_amount),
    Refunds: major(p.refunds_amount),
    "Net sales": major(p.net_amount),
    "Orders paid": p.sales_count,
    "New users": p.new_users,
    "Requests asked for": p.requests_created,
  }));
  const quiet = d.series.every((p) => !p.sales_count && !p.refunds_amount.amount_minor && !p.new_users && !p.requests_created);

  return (
    <>
      <Text size="xs" c="dimmed">
        As of {when(d.as_of)}; days are business days in {d.time_zone}
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 4 }}>
        <Stat testid="sales-today" label="Sales today" value={amount(d.sales.today.amount)} hint={salesHint(d.sales.today, d.currency)} />
        <Stat testid="net-today" label="Net sales today" value={amount(d.sales.today.net)} hint={`after ${amount(d.sales.today.refunds)} refunded`} />
        <Stat testid="sales-month" label="Sales this month" value={amount(d.sales.month.amount)} hint={salesHint(d.sales.month, d.currency)} />
        <Stat testid="net-month" label="Net sales this month" value={amount(d.sales.month.net)} hint={`after ${amount(d.sales.month.refunds)} refunded`} />
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
        <Title order={2} size="h4" mb={4}>
          Last 30 days
        </Title>
        <Text size="sm" c="dimmed" mb="sm" data-testid="net-30-days">
          Gross sales {amount(d.sales.last_30_days.amount)} · refunds {amount(d.sales.last_30_days.refunds)} · net{" "}
          {amount(d.sales.last_30_days.net)}
        </Text>
        {quiet ? (
          <Empty title="No activity in the last 30 days" hint="Sales, sign-ups and requests will be charted here as they happen." />
        ) : (
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <div>
              <Text size="sm" fw={600} id="money-chart">Sales, refunds and net ({d.currency})</Text>
              <BarChart
                h={240}
                data={series}
                dataKey="day"
                withLegend
                legendProps={{ verticalAlign: "bottom" }}
                aria-labelledby="money-chart"
                series={[
                  { name: "Gross sales", color: "teal.6" },
                  { name: "Refunds", color: "red.6" },
                  { name: "Net sales", color: "indigo.6" },
                ]}
              />
            </div>
            <div>
              <Text size="sm" fw={600} id="activity-chart">Orders, sign-ups and requests</Text>
              <BarChart
                h={240}
                data={series}
                dataKey="day"
                withLegend
                legendProps={{ verticalAlign: "bottom" }}
                aria-labelledby="activity-chart"
                series={[
                  { name: "Orders paid", color: "teal.6" },
                  { name: "New users", color: "blue.6" },
                  { name: "Requests asked for", color: "orange.6" },
                ]}
              />
            </div>
          </SimpleGrid>
        )}
      </Card>
    </>
  );
}
