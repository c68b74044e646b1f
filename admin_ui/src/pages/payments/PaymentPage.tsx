// One payment: how and when it was paid, what for (its plans), its receipt and customer; the charge
// and its refunds as a timeline, each step with who took it; an admin refunds from here.
import { Anchor, Button, Card, Grid, Group, Stack, Text, Timeline, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { authedFetch, problemOf } from "../../api/session";
import { isAdmin, useAuth } from "../../auth/AuthProvider";
import { PageHeader, WorkflowLink } from "../../components/bits";
import { money, when } from "../../components/format";
import { Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { RefundForm } from "./RefundForm";
import { StatusPill } from "../../components/StatusPill";
import { STATUSES, STATUS_COLORS } from "./words";
import { keys } from "../../queryKeys";

type Detail = Schemas["PaymentDetailOut"];

/** Whether a refund asked for has no answer from the provider yet. */
function refundPending(p: Detail): boolean {
  const count = (...kinds: string[]) => p.timeline.filter((e) => kinds.includes(e.kind)).length;
  return count("refund_requested") > count("refund_paid", "refund_failed");
}

/** The receipt (an HTML page the API makes for staff), opened in a new tab. */
async function openReceipt(path: string): Promise<void> {
  const shown = window.open("", "_blank");
  const response = await authedFetch(new Request(path));
  if (!response.ok) {
    shown?.close();
    throw await problemOf(response);
  }
  const url = URL.createObjectURL(new Blob([await response.text()], { type: "text/html" }));
  if (shown) shown.location.href = url;
  else window.location.assign(url);
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function Line({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" align="start">
      <Text size="sm" c="dimmed" w={120} style={{ flexShrink: 0 }}>{label}</Text>
      <Text size="sm" component="div" style={{ minWidth: 0, overflowWrap: "anywhere" }}>{children}</Text>
    </Group>
  );
}

function Summary({ p, admin }: { p: Detail; admin: boolean }) {
  const m = (minor: number) => money(minor, p.currency, p.minor_units);
  const receipt = useMutation({ mutationFn: () => openReceipt(p.receipt_path!) });
  const who = p.customer.name ?? p.customer.email ?? p.customer.phone ?? "The customer";
  return (
    <Card withBorder data-testid="payment-summary">
      <Title order={2} size="h4" mb="xs">Payment</Title>
      <Stack gap={4}>
        <Line label="Amount">{m(p.amount_minor)}</Line>
        <Line label="Paid with"><span data-testid="paid-with">{p.paid_with}</span></Line>
        <Line label={p.status === "pending" || p.status === "expired" ? "Placed" : "Paid"}>{when(p.at)}</Line>
        <Line label="Status">{STATUSES[p.status]}</Line>
        <Line label="Refunded">{p.refunded_minor ? m(p.refunded_minor) : "Nothing"}</Line>
        <Line label="Left to refund">{m(p.refundable_minor)}</Line>
        <Line label="Customer"><Anchor component={Link} to={`/customers/${p.customer.id}`}>{who}</Anchor></Line>
        <Line label={p.plans.length === 1 ? "Plan" : "Plans"}>
          {p.plans.map((plan, i) => (
            <span key={plan.plan_id}>
              {i > 0 && ", "}
              {admin ? <Anchor component={Link} to={`/plans/${plan.plan_id}`}>{plan.name}</Anchor> : plan.name}
            </span>
          ))}
        </Line>
        {p.failure_reason && <Line label="Why it failed">{p.failure_reason}</Line>}
      </Stack>
      <Group mt="sm" gap="sm">
        {p.receipt_path && (
          <Button size="xs" variant="default" onClick={() => receipt.mutate()} loading={receipt.isPending}>
            Receipt {p.receipt_number}
          </Button>
        )}
        <WorkflowLink url={p.workflow_url} id={p.workflow_id} />
      </Group>
      <Refused error={receipt.error} />
    </Card>
  );
}

function Events({ p }: { p: Detail }) {
  return (
    <Card withBorder data-testid="payment-timeline">
      <Title order={2} size="h4" mb="sm">Timeline</Title>
      <Timeline bulletSize={14} lineWidth={2} active={p.timeline.length}>
        {p.timeline.map((e, i) => (
          <Timeline.Item key={`${e.kind}-${e.at}-${i}`} title={e.text} color={e.kind.startsWith("refund") ? "red" : undefined} data-testid="payment-event">
            <Text size="xs" c="dimmed">{when(e.at)} · {e.actor}</Text>
            {e.note && <Text size="sm">{e.note}</Text>}
          </Timeline.Item>
        ))}
      </Timeline>
    </Card>
  );
}

export function PaymentPage() {
  const { orderId = "" } = useParams();
  const { user } = useAuth();
  const admin = isAdmin(user);
  const payment = useQuery({
    queryKey: keys.payments.one(orderId),
    queryFn: () => unwrap(api.GET("/api/v1/admin/payments/{order_id}", { params: { path: { order_id: orderId } } })),
    // A refund asked for is confirmed by the provider shortly: follow it until none is pending.
    refetchInterval: (q) => (q.state.data && refundPending(q.state.data) ? 2000 : false),
  });
  return (
    <Loaded query={payment} what="the payment">
      {(p) => (
        <Stack>
          <PageHeader title={`Payment by ${p.customer.name ?? p.customer.email ?? "a customer"}`}>
            <StatusPill words={STATUSES[p.status]} color={STATUS_COLORS[p.status]} />
          </PageHeader>
          <Grid>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Stack>
                <Summary p={p} admin={admin} />
                {admin && p.refundable_minor > 0 && <RefundForm payment={p} />}
              </Stack>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 6 }}>
              <Events p={p} />
            </Grid.Col>
          </Grid>
        </Stack>
      )}
    </Loaded>
  );
}
