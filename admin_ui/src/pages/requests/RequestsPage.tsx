// Every service request, the soonest window first, filtered by status, category, technician, days
// (business days), a postal code or its beginning, and the SLA flags; the filters live in the URL.
import { Anchor, Badge, Checkbox, Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { PageHeader, StatusBadge, WorkflowLink } from "../../components/bits";
import { DataList } from "../../components/DataList";
import { dayStart, label, span } from "../../components/format";
import { Paged, pageWindow } from "../../components/Paged";
import { Empty } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { addDays } from "../technicians/week";
import { keys } from "../../queryKeys";

// Orange darkened to 6.2:1 under white text (Mantine's orange.9 is 4.0:1).
const ESCALATED = "#ad390c";

const LIMIT = 25;
type Status = Schemas["RequestStatus"];
const STATUSES: Status[] = ["pending", "assigned", "in_progress", "completed", "cancelled"];
const KEYS = ["status", "category", "technician", "zone", "days", "escalated", "overdue"] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The `days` filter: one business day (2026-12-05) or a range (2026-12-05,2026-12-07). */
function range(days: string | null): [string | null, string | null] {
  const [a, b] = (days ?? "").split(",");
  return [DAY.test(a ?? "") ? a : null, DAY.test(b ?? "") ? b : null];
}

export function SlaFlags({ r }: { r: { escalated: boolean; overdue: boolean } }) {
  return (
    <Group gap={4}>
      {r.escalated && (
        <Badge color={ESCALATED} size="sm" data-testid="flag-escalated">
          Escalated
        </Badge>
      )}
      {r.overdue && (
        <Badge color="red.9" size="sm" data-testid="flag-overdue">
          Overdue
        </Badge>
      )}
    </Group>
  );
}

export function RequestsPage() {
  const [f, set] = useUrlFilters(KEYS);
  const [zone, setZone] = useState(f.zone ?? "");
  const [typed] = useDebouncedValue(zone, 300);
  useEffect(() => {
    if ((f.zone ?? "") !== typed) set("zone", typed.trim());
  }, [typed]); // eslint-disable-line react-hooks/exhaustive-deps
  const status = STATUSES.includes(f.status as Status) ? (f.status as Status) : undefined;
  const [from, to] = range(f.days);

  const categories = useQuery({ queryKey: keys.publicCategories, queryFn: () => unwrap(api.GET("/api/v1/catalog/categories")), staleTime: 60_000 });
  const technicians = useQuery({
    queryKey: keys.technicians.choices,
    queryFn: () => unwrap(api.GET("/api/v1/admin/technicians", { params: { query: { limit: 200 } } })),
    staleTime: 60_000,
  });
  const query = useQuery({
    queryKey: keys.requests.page(f),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/admin/service-requests", {
          params: {
            query: {
              status,
              category_id: f.category ?? undefined,
              technician_id: f.technician ?? undefined,
              zone: f.zone || undefined,
              starts_from: from ? dayStart(from) : undefined,
              starts_before: from ? dayStart(addDays(to ?? from, 1)) : undefined,
              escalated: f.escalated === "true" ? true : undefined,
              overdue: f.overdue === "true" ? true : undefined,
              ...pageWindow(f.page, LIMIT),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const filtered = KEYS.some((k) => f[k]);

  return (
    <Stack>
      <PageHeader title="Service requests" />
      <Group align="end" wrap="wrap">
        <Select label="Status" placeholder="Any" clearable data={STATUSES.map((s) => ({ value: s, label: label(s) }))} value={status ?? null} onChange={(v) => set("status", v)} w={170} clearButtonProps={{ "aria-label": "Any status" }} />
        <Select label="Category" placeholder="Any" clearable data={(categories.data ?? []).map((c) => ({ value: c.id, label: c.name }))} value={f.category} onChange={(v) => set("category", v)} w={170} clearButtonProps={{ "aria-label": "Any category" }} />
        <Select label="Technician" placeholder="Anyone" clearable searchable data={(technicians.data?.items ?? []).map((t) => ({ value: t.id, label: t.name }))} value={f.technician} onChange={(v) => set("technician", v)} w={190} clearButtonProps={{ "aria-label": "Any technician" }} />
        <DatePickerInput
          type="range"
          allowSingleDateInRange
          label="Days"
          clearable
          clearButtonProps={{ "aria-label": "Any day" }}
          value={[from, to]}
          onChange={(v) => {
            const [a, b] = v as [string | null, string | null];
            set("days", a ? (b && b !== a ? `${a},${b}` : a) : null);
          }}
          w={220}
        />
        <TextInput label="Postal code" description="Or its beginning" placeholder="e.g. 5600" value={zone} onChange={(e) => setZone(e.currentTarget.value)} w={150} />
        <Checkbox label="Escalated" checked={f.escalated === "true"} onChange={(e) => set("escalated", e.currentTarget.checked ? "true" : null)} />
        <Checkbox label="Overdue" checked={f.overdue === "true"} onChange={(e) => set("overdue", e.currentTarget.checked ? "true" : null)} />
      </Group>
      <Loaded query={query} what="service requests">
        {(data) =>
          data.items.length === 0 ? (
            <Empty
              title="No service requests here"
              hint={filtered ? "Nothing matches these filters: clear some to see more." : "Customers ask for visits from the app; they appear here as they do."}
            />
          ) : (
            <>
              <DataList
                caption="Service requests"
                testId="requests-table"
                rowTestId="request-row"
                rows={data.items}
                rowKey={(r) => r.id}
                columns={[
                  { label: "Request", primary: true, render: (r) => <Anchor component={Link} to={`/requests/${r.id}`}>{r.number}</Anchor> },
                  { label: "Window", render: (r) => span(r.window_start, r.window_end) },
                  { label: "Customer", render: (r) => <Anchor component={Link} to={`/customers/${r.customer.id}`}>{r.customer.name ?? r.customer.email ?? r.customer.phone}</Anchor> },
                  { label: "Category", render: (r) => r.category.name },
                  { label: "Postal code", render: (r) => r.postal_code },
                  { label: "Status", render: (r) => <Group gap={4}><StatusBadge status={r.status} /><SlaFlags r={r} /></Group> },
                  { label: "Technician", render: (r) => r.technician?.name ?? <Text c="dimmed" size="sm">Not assigned</Text> },
                ]}
                actions={(r) => <WorkflowLink url={r.workflow_url} id={r.workflow_id} />}
              />
              <Paged total={data.total} limit={LIMIT} page={f.page} onChange={(p) => set("page", p)} noun="request" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
