// Every staff change, readable: when, who (by name), what was done and to what (a link to its
// screen), each change in words ("Price: ₹2,999.00 → ₹3,499.00"), the reason given. Filters (what
// it was about, who, which days, one item's history) are kept in the URL.
import { Anchor, Badge, Button, CloseButton, Group, Select, Stack, Text } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { useStaff } from "../api/staff";
import { PageHeader } from "../components/bits";
import { DataList, type Column } from "../components/DataList";
import { dayStart, when } from "../components/format";
import { Paged, pageWindow } from "../components/Paged";
import { Empty } from "../components/States";
import { Loaded } from "../components/Loaded";
import { useUrlFilters } from "../components/urlState";
import { addDays, periodLabel } from "./reports/period";
import { keys } from "../queryKeys";

type Entry = Schemas["AuditEntryOut"];
type Entity = Schemas["EntityRef"];
const LIMIT = 50;

const ABOUT = [
  { value: "plan", label: "Plans" },
  { value: "category", label: "Categories" },
  { value: "service_request", label: "Service requests" },
  { value: "order", label: "Payments and refunds" },
  { value: "subscription", label: "Plans held by customers" },
  { value: "technician", label: "Technicians" },
  { value: "user", label: "Accounts" },
  { value: "campaign", label: "Campaigns" },
  { value: "support_callback", label: "Callbacks" },
  { value: "support_call", label: "Calls" },
];

const WHAT: Record<string, string> = {
  request: "visit",
  payment: "payment",
  plan: "plan",
  category: "category",
  customer: "customer",
  staff: "staff member",
  technician: "technician",
  campaign: "campaign",
  callback: "callback",
  call: "call",
  subscription: "plan held",
};

/** The screen that shows what an entry is about, if there is one. */
export function entityPath(e: Entity): string | null {
  switch (e.kind) {
    case "request": return `/requests/${e.id}`;
    case "payment": return `/payments/${e.id}`;
    case "plan": return `/plans/${e.id}`;
    case "category": return "/categories";
    case "customer": return `/customers/${e.id}`;
    case "technician": return "/technicians";
    case "campaign": return "/campaigns";
    case "callback": return `/support/callbacks/${e.id}`;
    case "call":
    case "subscription": return e.customer_id ? `/customers/${e.customer_id}` : null;
    default: return null;
  }
}

function EntityLink({ entity }: { entity: Entity }) {
  const name = entity.name ?? `a ${WHAT[entity.kind] ?? "record"} no longer there`;
  const path = entity.name ? entityPath(entity) : null;
  return path ? <Anchor component={Link} to={path} size="sm" data-testid="audit-entity">{name}</Anchor> : <Text span size="sm">{name}</Text>;
}

const COLUMNS: Column<Entry>[] = [
  {
    label: "What",
    primary: true,
    render: (e) => (
      <Text size="sm" component="div">
        <Text span fw={600} size="sm">{e.summary}</Text>{" "}
        <EntityLink entity={e.entity} />
      </Text>
    ),
  },
  { label: "Who", render: (e) => e.actor_name ?? (e.actor_id ? "A former staff member" : "System") },
  { label: "When", render: (e) => when(e.at) },
  {
    label: "Changes",
    render: (e) =>
      e.changes.length === 0 ? (
        <Text size="sm" c="dimmed">—</Text>
      ) : (
        <Stack gap={2} data-testid="audit-changes">
          {e.changes.map((c) => (
            <Text key={c.field} size="sm">
              {c.field}: {c.before === null || c.before === undefined ? c.after : `${c.before} → ${c.after}`}
            </Text>
          ))}
        </Stack>
      ),
  },
  { label: "Reason", render: (e) => e.reason ?? "—" },
];

export function AuditPage() {
  const [filters, set] = useUrlFilters(["entity_type", "entity_id", "actor_id", "since", "until"] as const);
  const [, setParams] = useSearchParams();
  const staff = useStaff();
  const query = {
    entity_type: filters.entity_type ?? undefined,
    entity_id: filters.entity_id ?? undefined,
    actor_id: filters.actor_id ?? undefined,
    since: filters.since ? dayStart(filters.since) : undefined,
    until: filters.until ? dayStart(addDays(filters.until, 1)) : undefined,
    ...pageWindow(filters.page, LIMIT),
  };
  const list = useQuery({
    queryKey: keys.audit(query),
    queryFn: () => unwrap(api.GET("/api/v1/admin/audit", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const filtered = Object.entries(filters).some(([k, v]) => k !== "page" && v);
  const first = list.data?.items[0];
  return (
    <Stack>
      <PageHeader title="Audit log" />
      <Group align="end" wrap="wrap">
        <Select label="About" placeholder="Anything" clearable w={220} maw="100%" value={filters.entity_type} onChange={(v) => set("entity_type", v)} data={ABOUT} />
        <Select
          label="Who"
          placeholder="Anyone"
          clearable
          searchable
          w={200}
          maw="100%"
          value={filters.actor_id}
          onChange={(v) => set("actor_id", v)}
          data={(staff.data ?? []).map((u) => ({ value: u.id, label: u.name ?? u.email ?? "A staff member" }))}
        />
        <DatePickerInput
          type="range"
          label="Between"
          valueFormat="ddd D MMM YYYY"
          description="Any day when empty"
          clearable
          value={[filters.since, filters.until]}
          onChange={(v) => {
            const [a, b] = v as [string | null, string | null];
            if (!a) { set("since", null); set("until", null); return; }
            if (b) setParams((p) => { const n = new URLSearchParams(p); n.set("since", a.slice(0, 10)); n.set("until", b.slice(0, 10)); n.delete("page"); return n; }, { replace: true });
          }}
          w={240}
          maw="100%"
        />
        {filtered && <Button variant="subtle" onClick={() => setParams({}, { replace: true })}>Clear filters</Button>}
      </Group>
      {filters.since && filters.until && <Text size="sm" c="dimmed">{periodLabel({ since: filters.since, until: filters.until })} (business days)</Text>}
      {filters.entity_id && (
        <Group gap="xs">
          <Badge variant="outline" color="dark" size="lg" styles={{ root: { textTransform: "none" } }} rightSection={<CloseButton size="xs" aria-label="Show every entry" onClick={() => set("entity_id", null)} />}>
            The history of {first ? first.entity.name ?? "one record" : "one record"}
          </Badge>
        </Group>
      )}
      <Loaded query={list} what="the audit log">
        {(data) =>
          data.items.length === 0 ? (
            <Empty title="Nothing recorded here" hint="Every staff change is recorded; widen the filters to see more." />
          ) : (
            <>
              <DataList caption="Audit log" rows={data.items} columns={COLUMNS} rowKey={(e) => e.id} testId="audit-table" rowTestId="audit-row" />
              <Paged total={data.total} limit={LIMIT} page={filters.page} onChange={(p) => set("page", p)} noun="entry" plural="entries" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
