// Payment transactions with filters; an admin refunds an order (full or partial) from here.
import { Anchor, Button, Group, Modal, NumberInput, Pagination, Select, Stack, Table, Text, TextInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import type { PageOf, PaymentRow } from "../api/contract";
import { getJson } from "../api/session";
import { isAdmin, useAuth } from "../auth/AuthProvider";
import { PageHeader, StatusBadge, WorkflowLink } from "../components/bits";
import { money, when } from "../components/format";
import { Empty, ErrorState, Loading, Refused } from "../components/States";

const LIMIT = 25;

function refunded(p: PaymentRow): number {
  return p.refunded_minor ?? p.refunded_amount_minor ?? 0;
}

function Refund({ payment, close }: { payment: PaymentRow; close: () => void }) {
  const queries = useQueryClient();
  const left = payment.amount_minor - refunded(payment);
  const [amount, setAmount] = useState<number>(left / 100);
  const [reason, setReason] = useState("");
  const refund = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/admin/orders/{order_id}/refunds", {
        params: { path: { order_id: payment.order_id } },
        body: { amount_minor: Math.round(amount * 100), reason },
      })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Refund requested: the payment provider confirms it shortly." });
      void queries.invalidateQueries({ queryKey: ["payments"] });
      close();
    },
  });
  return (
    <Stack>
      <Text size="sm">Order {payment.order_id.slice(0, 8)} · paid {money(payment.amount_minor, payment.currency)} · refundable {money(left, payment.currency)}</Text>
      <NumberInput label="Amount" decimalScale={2} min={0.01} max={left / 100} value={amount} onChange={(v) => setAmount(Number(v))} />
      <Textarea label="Reason" placeholder="Told to the customer and kept in the audit log" value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
      <Refused error={refund.error} />
      <Group justify="end">
        <Button variant="default" onClick={close}>Keep it</Button>
        <Button color="red" disabled={reason.trim().length < 3 || amount <= 0} loading={refund.isPending} onClick={() => refund.mutate()}>Refund</Button>
      </Group>
    </Stack>
  );
}

export function PaymentsPage() {
  const { user } = useAuth();
  const [status, setStatus] = useState<string | null>(null);
  const [provider, setProvider] = useState<string | null>(null);
  const [q, setQ] = useState("");
  const [page, setPage] = useState(1);
  const [refunding, setRefunding] = useState<PaymentRow | null>(null);
  const list = useQuery({
    queryKey: ["payments", status, provider, q, page],
    queryFn: () => getJson<PageOf<PaymentRow>>("/admin/payments", { status, provider, q: q.trim() || undefined, limit: LIMIT, offset: (page - 1) * LIMIT }),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <PageHeader title="Payments" />
      <Group align="end" wrap="wrap">
        <Select label="Status" placeholder="Any" clearable w={170} value={status} onChange={(v) => { setStatus(v); setPage(1); }} data={["pending", "succeeded", "partially_refunded", "refunded", "failed", "expired"]} />
        <Select label="Provider" placeholder="Any" clearable w={150} value={provider} onChange={(v) => { setProvider(v); setPage(1); }} data={["sandbox", "stripe", "razorpay"]} />
        <TextInput label="Customer or order" placeholder="name, email, phone or order id" value={q} onChange={(e) => { setQ(e.currentTarget.value); setPage(1); }} w={260} />
      </Group>
      {list.isPending ? <Loading what="payments" /> : list.isError ? <ErrorState what="payments" error={list.error} retry={() => list.refetch()} /> :
        list.data.items.length === 0 ? <Empty title="No payments here" hint={status || provider || q ? "Nothing matches: clear a filter." : "Payments appear as customers buy plans."} /> : (
          <>
            <Table.ScrollContainer minWidth={820}>
              <Table striped data-testid="payments-table">
                <Table.Thead><Table.Tr><Table.Th>When</Table.Th><Table.Th>Customer</Table.Th><Table.Th>Amount</Table.Th><Table.Th>Refunded</Table.Th><Table.Th>Provider · method</Table.Th><Table.Th>Status</Table.Th><Table.Th /></Table.Tr></Table.Thead>
                <Table.Tbody>
                  {list.data.items.map((p) => {
                    const customerId = p.customer?.id ?? p.customer_id;
                    const name = p.customer?.name ?? p.customer?.email ?? p.customer_name ?? customerId?.slice(0, 8);
                    return (
                      <Table.Tr key={p.id ?? p.order_id + p.at} data-testid="payment-row">
                        <Table.Td>{when(p.at)}</Table.Td>
                        <Table.Td>{customerId ? <Anchor component={Link} to={`/customers/${customerId}`}>{name}</Anchor> : "—"}</Table.Td>
                        <Table.Td>{money(p.amount_minor, p.currency)}</Table.Td>
                        <Table.Td>{refunded(p) ? money(refunded(p), p.currency) : "—"}</Table.Td>
                        <Table.Td>{p.provider}{p.method ? ` · ${p.method}` : ""}</Table.Td>
                        <Table.Td><StatusBadge status={p.status} /></Table.Td>
                        <Table.Td>
                          <Group gap="xs" wrap="nowrap">
                            <WorkflowLink url={p.workflow_url} id={`checkout:${p.order_id}`} />
                            {isAdmin(user) && refunded(p) < p.amount_minor && (
                              <Button size="xs" variant="light" color="red" onClick={() => setRefunding(p)}>Refund</Button>
                            )}
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Group justify="space-between">
              <Text size="sm" c="dimmed">{list.data.total} payments</Text>
              <Pagination total={Math.max(1, Math.ceil(list.data.total / LIMIT))} value={page} onChange={setPage} />
            </Group>
          </>
        )}
      <Modal opened={!!refunding} onClose={() => setRefunding(null)} title="Refund">
        {refunding && <Refund payment={refunding} close={() => setRefunding(null)} />}
      </Modal>
    </Stack>
  );
}
