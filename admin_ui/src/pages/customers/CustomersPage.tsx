// Customers: search by name, email or phone (kept in the URL); open one for their plans, orders,
// requests and calls.
import { Anchor, Stack, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { PageHeader } from "../../components/bits";
import { DataList } from "../../components/DataList";
import { day } from "../../components/format";
import { Paged, pageWindow } from "../../components/Paged";
import { Empty } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { keys } from "../../queryKeys";

const LIMIT = 25;

export function CustomersPage() {
  const [f, set] = useUrlFilters(["q"] as const);
  const [q, setQ] = useState(f.q ?? "");
  const [search] = useDebouncedValue(q.trim(), 300);
  useEffect(() => {
    if ((f.q ?? "") !== search) set("q", search);
  }, [search]); // eslint-disable-line react-hooks/exhaustive-deps
  const list = useQuery({
    queryKey: keys.customers.page(f.q, f.page),
    queryFn: () => unwrap(api.GET("/api/v1/admin/users", { params: { query: { role: "customer", q: f.q || undefined, ...pageWindow(f.page, LIMIT) } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <PageHeader title="Customers" />
      <TextInput label="Search customers" placeholder="Name, email or phone" value={q} onChange={(e) => setQ(e.currentTarget.value)} maw={360} />
      <Loaded query={list} what="customers">
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={f.q ? "Nobody matches" : "No customers yet"} hint={f.q ? "Try part of the name, the email or the phone number." : "Customers appear here when they sign up in the app."} />
          ) : (
            <>
              <DataList
                caption="Customers"
                testId="customers-table"
                rowTestId="customer-row"
                rows={data.items}
                rowKey={(u) => u.id}
                columns={[
                  { label: "Name", primary: true, render: (u) => <Anchor component={Link} to={`/customers/${u.id}`}>{u.name ?? u.email ?? u.phone ?? "Customer"}</Anchor> },
                  { label: "Email", render: (u) => u.email ?? "—" },
                  { label: "Phone", render: (u) => (u.phone ? <Anchor href={`tel:${u.phone}`}>{u.phone}</Anchor> : "—") },
                  { label: "Since", render: (u) => day(u.created_at) },
                ]}
              />
              <Paged total={data.total} limit={LIMIT} page={f.page} onChange={(p) => set("page", p)} noun="customer" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
