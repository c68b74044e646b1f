// Payments, the latest first, filtered by status, provider, method or a search (kept in the URL);
// each opens its detail: the charge and its refunds as a timeline, and refunding.
import { Anchor, Button, Group, Select, Stack, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { PageHeader } from "../components/bits";
import { DataList, type Column } from "../components/DataList";
import { money, when } from "../components/format";
import { Paged, pageWindow } from "../components/Paged";
import { Empty } from "../components/States";
import { Loaded } from "../components/Loaded";
import { useUrlFilters } from "../components/urlState";
import { METHODS, PROVIDERS, STATUSES, STATUS_COLORS, paidWith } from "./payments/words";
import { StatusPill } from "../components/StatusPill";
import { keys } from "../queryKeys";

type Payment = Schemas["PaymentOut"];
type Status = Schemas["PaymentStatusView"];
type Provider = Schemas["PaymentSession"]["provider"];
type Method = "card" | "upi" | "wallet" | "netbanking";

const LIMIT = 25;
const choices = (words: Record<string, string>) => Object.entries(words).map(([value, label]) => ({ value, label: label.charAt(0).toUpperCase() + label.slice(1) }));

const customerName = (p: Payment) => p.customer.name ?? p.customer.email ?? p.customer.phone ?? "A customer";

const COLUMNS: Column<Payment>[] = [
  {
    label: "Customer",
    primary: true,
    render: (p) => (
      <Anchor component={Link} to={`/payments/${p.order_id}`} data-testid="payment-link">
        {customerName(p)}
      </Anchor>
    ),
  },
  { label: "Order", render: (p) => p.order_number },
  { label: "When", render: (p) => when(p.at) },
  { label: "Amount", render: (p) => money(p.amount_minor, p.currency, p.minor_units) },
  { label: "Refunded", render: (p) => (p.refunded_minor ? money(p.refunded_minor, p.currency, p.minor_units) : "Nothing") },
  { label: "Paid with", render: (p) => paidWith(p.provider, p.method) },
  { label: "Status", render: (p) => <StatusPill words={STATUSES[p.status]} color={STATUS_COLORS[p.status]} /> },
];

export function PaymentsPage() {
  const [filters, set] = useUrlFilters(["status", "provider", "method", "q"] as const);
  const [, setParams] = useSearchParams();
  const [typed, setTyped] = useState(filters.q ?? "");
  const [search] = useDebouncedValue(typed, 300);
  useEffect(() => {
    if ((filters.q ?? "") !== search.trim()) set("q", search.trim() || null);
    // Only when the typed search settles (a keystroke does not rewrite the URL).
  }, [search]);
  const query = {
    status: (filters.status as Status | null) ?? undefined,
    provider: (filters.provider as Provider | null) ?? undefined,
    method: (filters.method as Method | null) ?? undefined,
    q: filters.q ?? undefined,
    ...pageWindow(filters.page, LIMIT),
  };
  const list = useQuery({
    queryKey: keys.payments.page(query),
    queryFn: () => unwrap(api.GET("/api/v1/admin/payments", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const filtered = !!(filters.status || filters.provider || filters.method || filters.q);
  return (
    <Stack>
      <PageHeader title="Payments" />
      <Group align="end" wrap="wrap">
        <Select label="Status" placeholder="Any" clearable w={190} value={filters.status} onChange={(v) => set("status", v)} data={choices(STATUSES)} />
        <Select label="Provider" placeholder="Any" clearable w={150} value={filters.provider} onChange={(v) => set("provider", v)} data={choices(PROVIDERS)} />
        <Select label="Method" placeholder="Any" clearable w={150} value={filters.method} onChange={(v) => set("method", v)} data={choices(METHODS)} />
        <TextInput label="Customer or order" placeholder="Name, email, phone or order" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} w={260} maw="100%" />
        {filtered && (
          <Button variant="subtle" onClick={() => { setTyped(""); setParams({}, { replace: true }); }}>
            Clear filters
          </Button>
        )}
      </Group>
      <Loaded query={list} what="payments">
        {(data) =>
          data.items.length === 0 ? (
            <Empty title="No payments here" hint={filtered ? "Nothing matches: clear a filter." : "Payments appear as customers buy plans."} />
          ) : (
            <>
              <DataList
                caption="Payments"
                rows={data.items}
                columns={COLUMNS}
                rowKey={(p) => p.order_id}
                testId="payments-table"
                rowTestId="payment-row"
                actions={(p) => (
                  <Button size="xs" variant="default" component={Link} to={`/payments/${p.order_id}`} aria-label={`Details of the payment by ${customerName(p)}`}>
                    Details
                  </Button>
                )}
              />
              <Paged total={data.total} limit={LIMIT} page={filters.page} onChange={(p) => set("page", p)} noun="payment" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
