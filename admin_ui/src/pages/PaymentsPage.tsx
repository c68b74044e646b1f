// Payment transactions with filters; an admin refunds an order (full or partial) from here.
import { Anchor, Button, Group, Modal, NumberInput, Pagination, Select, Stack, Table, Text, TextInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { isAdmin, useAuth } from "../auth/AuthProvider";
import { PageHeader, StatusBadge, WorkflowLink } from "../components/bits";
import { money, when } from "../components/format";
import { Empty, ErrorState, Loading, Refused } from "../components/States";

type Payment = Schemas["PaymentOut"];
type Status = Schemas["PaymentStatusView"];
type Provider = Schemas["PaymentSession"]["provider"];

const LIMIT = 25;
const STATUSES: Status[] = ["pending", "succeeded", "partially_refunded", "refunded", "failed", "expired"];
const PROVIDERS: Provider[] = ["sandbox", "stripe", "razorpay"];

function Refund({ payment, close }: { payment: Payment; close: () => void }) {
  const queries = useQueryClient();
  const left = payment.refundable_minor;
  const scale = 10 ** payment.minor_units;  // minor units per major one: 100 paise to the rupee
  const [amount, setAmount] = useState<number>(left / scale);
  const [reason, setReason] = useState("");
  const refund = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/admin/orders/{order_id}/refunds", {
        params: { path: { order_id: payment.order_id } },
        body: { amount_minor: Math.round(amount * scale), reason },
      })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Refund requested: the payment provider confirms it shortly." });
      void queries.invalidateQueries({ queryKey: ["payments"] });
      close();
    },
  });
  return (
    <Stack>
      <Text size="sm">Order {payment.order_id.slice(0, 8)} · paid {money(payment.amount_minor, payment.currency, payment.minor_units)} · refundable {money(left, payment.currency, payment.minor_units)}</Text>
      <NumberInput label="Amount" decimalScale={payment.minor_units} min={1 / scale} max={left / scale} value={amount} onChange={(v) => setAmount(Number(v))} />
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
  const [status, setStatus] = useState<Status | null>(null);
  const [provider, setProvider] = useState<Provider | null>(null);
  const [q, setQ] = useState("");
  const [page, setPage] = useState(1);
  const [refunding, setRefunding] = useState<Payment | null>(null);
  const list = useQuery({
    queryKey: ["payments", status, provider, q, page],
    queryFn: () =>
      unwrap(api.GET("/api/v1/admin/payments", {
        params: { query: { status, provider, q: q.trim() || undefined, limit: LIMIT, offset: (page - 1) * LIMIT } },
      })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <PageHeader title="Payments" />
      <Group align="end" wrap="wrap">
        <Select label="Status" placeholder="Any" clearable w={170} value={status} onChange={(v) => { setStatus(v as Status | null); setPage(1); }} data={STATUSES} />
        <Select label="Provider" placeholder="Any" clearable w={150} value={provider} onChange={(v) => { setProvider(v as Provider | null); setPage(1); }} data={PROVIDERS} />
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
                    const name = p.customer.name ?? p.customer.email ?? p.customer.phone ?? p.customer.id.slice(0, 8);
                    return (
                      <Table.Tr key={`${p.order_id}:${p.provider_ref ?? ""}:${p.at}`} data-testid="payment-row">
                        <Table.Td>{when(p.at)}</Table.Td>
                        <Table.Td><Anchor component={Link} to={`/customers/${p.customer.id}`}>{name}</Anchor></Table.Td>
                        <Table.Td>{money(p.amount_minor, p.currency, p.minor_units)}</Table.Td>
                        <Table.Td>{p.refunded_minor ? money(p.refunded_minor, p.currency, p.minor_units) : "—"}</Table.Td>
                        <Table.Td>{p.provider}{p.method ? ` · ${p.method}` : ""}</Table.Td>
                        <Table.Td><StatusBadge status={p.status} /></Table.Td>
                        <Table.Td>
                          <Group gap="xs" wrap="nowrap">
                            <WorkflowLink url={p.workflow_url} id={p.workflow_id} />
                            {isAdmin(user) && p.refundable_minor > 0 && (
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
