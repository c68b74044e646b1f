// What the header's search box found: customers (by name, email or phone), service requests and
// orders (by number: R-1042, O-2077, or the digits) and receipts (by number), each a link.
import { Anchor, Card, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { PageHeader, StatusBadge } from "../components/bits";
import { DataList } from "../components/DataList";
import { day, money, span } from "../components/format";
import { count } from "../components/Paged";
import { Empty } from "../components/States";
import { Loaded } from "../components/Loaded";
import { keys } from "../queryKeys";

function Section({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  return (
    <Card withBorder data-testid={testId}>
      <Title order={2} size="h4" mb="xs">
        {title}
      </Title>
      {children}
    </Card>
  );
}

export function SearchPage() {
  const [params] = useSearchParams();
  const q = (params.get("q") ?? "").trim();
  const found = useQuery({
    queryKey: keys.search(q),
    queryFn: () => unwrap(api.GET("/api/v1/admin/search", { params: { query: { q } } })),
    enabled: q.length > 0,
  });

  if (!q) {
    return (
      <Stack>
        <PageHeader title="Search" />
        <Empty title="Type in the search box above" hint="A name, an email, a phone number, a request (R-1042), an order (O-2077) or a receipt's number." />
      </Stack>
    );
  }
  return (
    <Loaded query={found} what="what matches" failed="the search">
      {(r) => {
        const nothing = !r.customers.length && !r.requests.length && !r.orders.length && !r.receipts.length;

        return (
          <Stack>
            <PageHeader title={`Search: ${r.q}`} />
            {nothing ? (
              <Empty title="Nothing matches" hint="Try part of the name, the email, the phone number with or without +91, or a number such as R-1042 or O-2077." />
            ) : (
              <>
                {r.customers.length > 0 && (
                  <Section title={`Customers (${count(r.customers_total, "match", "matches")})`} testId="found-customers">
                    <DataList
                      caption="Customers found"
                      rows={r.customers}
                      rowKey={(c) => c.id}
                      rowTestId="found-customer"
                      columns={[
                        { label: "Name", render: (c) => <Anchor component={Link} to={`/customers/${c.id}`}>{c.name ?? c.email ?? c.phone}</Anchor> },
                        { label: "Email", render: (c) => c.email ?? "—" },
                        { label: "Phone", render: (c) => (c.phone ? <Anchor href={`tel:${c.phone}`}>{c.phone}</Anchor> : "—") },
                      ]}
                    />
                    {r.customers_total > r.customers.length && (
                      <Text size="sm" c="dimmed" mt="xs">
                        The first {r.customers.length} are shown: add more of the name or number to narrow it.
                      </Text>
                    )}
                  </Section>
                )}
                {r.requests.length > 0 && (
                  <Section title="Service requests" testId="found-requests">
                    <DataList
                      caption="Service requests found"
                      rows={r.requests}
                      rowKey={(x) => x.id}
                      rowTestId="found-request"
                      columns={[
                        { label: "Request", render: (x) => <Anchor component={Link} to={`/requests/${x.id}`}>{x.number}</Anchor> },
                        { label: "Visit", render: (x) => `${x.category}, ${span(x.window_start, x.window_end)}` },
                        { label: "Customer", render: (x) => <Anchor component={Link} to={`/customers/${x.customer_id}`}>{x.customer_name ?? "Customer"}</Anchor> },
                        { label: "Status", render: (x) => <StatusBadge status={x.status} /> },
                      ]}
                    />
                  </Section>
                )}
                {r.orders.length > 0 && (
                  <Section title="Orders" testId="found-orders">
                    <DataList
                      caption="Orders found"
                      rows={r.orders}
                      rowKey={(x) => x.id}
                      rowTestId="found-order"
                      columns={[
                        { label: "Order", render: (x) => <Anchor component={Link} to={`/customers/${x.customer_id}`}>{x.number}</Anchor> },
                        { label: "Placed", render: (x) => day(x.created_at) },
                        { label: "Total", render: (x) => money(x.total_minor, x.currency) },
                        { label: "Customer", render: (x) => x.customer_name ?? "—" },
                        { label: "Status", render: (x) => <StatusBadge status={x.status} /> },
                      ]}
                    />
                  </Section>
                )}
                {r.receipts.length > 0 && (
                  <Section title="Receipts" testId="found-receipts">
                    <DataList
                      caption="Receipts found"
                      rows={r.receipts}
                      rowKey={(x) => String(x.number)}
                      rowTestId="found-receipt"
                      columns={[
                        { label: "Receipt", render: (x) => <Anchor component={Link} to={`/customers/${x.customer_id}`}>Receipt {x.number}</Anchor> },
                        { label: "Order", render: (x) => x.order_number },
                        { label: "Issued", render: (x) => day(x.issued_at) },
                        { label: "Total", render: (x) => money(x.total_minor, x.currency) },
                        { label: "Customer", render: (x) => x.customer_name ?? "—" },
                      ]}
                    />
                  </Section>
                )}
              </>
            )}
          </Stack>
        );
      }}
    </Loaded>
  );
}
