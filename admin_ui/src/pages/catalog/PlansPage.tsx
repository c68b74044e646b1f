// Plans in the catalog's order: on sale first (as customers see them), then drafts, then archived
// ones, or one status through the filter (kept in the URL). Move a plan up or down among those of
// its status; publish (a free plan asks first); archive (says how many customers hold it).
import { Anchor, Button, SegmentedControl, Stack, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { PageHeader, StatusBadge } from "../../components/bits";
import { ConfirmButton } from "../../components/Confirm";
import { DataList, usePhone, type Column } from "../../components/DataList";
import { money } from "../../components/format";
import { count, Paged, pageCount, pageWindow } from "../../components/Paged";
import { Empty, Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { keys } from "../../queryKeys";

type Plan = Schemas["AdminPlanOut"];
type Status = Schemas["PlanStatus"];
const LIMIT = 25;
const STATUSES: { value: Status | "all"; label: string }[] = [
  { value: "all", label: "All" },
  { value: "active", label: "On sale" },
  { value: "draft", label: "Drafts" },
  { value: "archived", label: "Archived" },
];

/** "3 customers hold this plan; they keep it until it ends; it leaves the catalog." */
function archiveImpact(plan: Plan): string {
  const who =
    plan.holders === 0
      ? "No customer holds this plan"
      : `${count(plan.holders, "customer")} ${plan.holders === 1 ? "holds" : "hold"} this plan; they keep it until it ends`;
  return `${who}; it leaves the catalog.`;
}

function isFree(plan: Plan): boolean {
  return plan.current_version.price.total_minor === 0;
}

export function PlansPage() {
  const queries = useQueryClient();
  const phone = usePhone();
  const [filters, setFilter] = useUrlFilters(["status"] as const);
  const status = (STATUSES.find((s) => s.value === filters.status)?.value ?? "all") as Status | "all";
  const page = filters.page;
  const plans = useQuery({
    queryKey: keys.plans.page(status, page),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/admin/catalog/plans", {
          params: { query: { status: status === "all" ? undefined : status, ...pageWindow(page, LIMIT) } },
        }),
      ),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: keys.plans.all });
  const act = useMutation({
    mutationFn: ({ plan, action }: { plan: Plan; action: "publish" | "archive" }) =>
      unwrap(
        action === "publish"
          ? api.POST("/api/v1/admin/catalog/plans/{plan_id}/publish", { params: { path: { plan_id: plan.id } } })
          : api.POST("/api/v1/admin/catalog/plans/{plan_id}/archive", { params: { path: { plan_id: plan.id } } }),
      ),
    onSuccess: refresh,
  });
  const move = useMutation({
    mutationFn: ({ plan, direction }: { plan: Plan; direction: "up" | "down" }) =>
      unwrap(api.POST("/api/v1/admin/catalog/plans/{plan_id}/move", { params: { path: { plan_id: plan.id } }, body: { direction } })),
    onSuccess: refresh,
  });

  const rows = plans.data?.items ?? [];
  const total = plans.data?.total ?? 0;
  const lastPage = pageCount(total, LIMIT);
  // First (or last) among the plans of its status: nothing to pass. A page's edge is not known to
  // be the status's edge, so the move stays offered there (the API changes nothing if it is).
  const canMove = (index: number, by: -1 | 1) => {
    const neighbour = rows[index + by];
    if (neighbour) return neighbour.status === rows[index].status;
    return by < 0 ? page > 1 : page < lastPage;
  };
  const name = (p: Plan) => p.current_version.name;

  const columns: Column<Plan>[] = [
    {
      label: "Plan",
      primary: true,
      render: (p) => (
        <>
          <Anchor component={Link} to={`/plans/${p.id}`}>{name(p)}</Anchor>
          <Text size="xs" c="dimmed">{p.slug}</Text>
        </>
      ),
    },
    { label: "Price", render: (p) => money(p.current_version.price.total_minor, p.current_version.price.currency) },
    { label: "Visits", render: (p) => `${count(p.current_version.visit_cap, "visit")} in ${count(p.current_version.validity_days, "day")}` },
    { label: "Status", render: (p) => <StatusBadge status={p.status} /> },
    { label: "Customers", render: (p) => (p.holders === 0 ? "None" : count(p.holders, "customer")) },
    { label: "Version", render: (p) => `Version ${p.current_version.number}${p.current_version.published_at ? "" : " (draft)"}${p.sold ? ", sold" : ""}` },
  ];

  const actions = (p: Plan) => {
    const index = rows.indexOf(p);
    const busy = act.isPending && act.variables?.plan.id === p.id;
    return (
      <>
        <Button size="xs" variant="default" aria-label={`Move ${name(p)} up`} disabled={!canMove(index, -1) || move.isPending} onClick={() => move.mutate({ plan: p, direction: "up" })}>
          ↑ Up
        </Button>
        <Button size="xs" variant="default" aria-label={`Move ${name(p)} down`} disabled={!canMove(index, 1) || move.isPending} onClick={() => move.mutate({ plan: p, direction: "down" })}>
          ↓ Down
        </Button>
        {p.status !== "active" && isFree(p) && (
          <ConfirmButton
            size="xs"
            aria-label={`Publish ${name(p)}`}
            title={`Publish at ${money(0, p.current_version.price.currency, 0)}?`}
            impact="Customers get it free: it goes on sale at no charge."
            confirmLabel="Publish free"
            onConfirm={() => act.mutate({ plan: p, action: "publish" })}
            loading={busy}
          >
            Publish
          </ConfirmButton>
        )}
        {p.status !== "active" && !isFree(p) && (
          <Button size="xs" aria-label={`Publish ${name(p)}`} onClick={() => act.mutate({ plan: p, action: "publish" })} loading={busy}>
            Publish
          </Button>
        )}
        {p.status === "active" && (
          <ConfirmButton
            size="xs"
            variant="default"
            aria-label={`Archive ${name(p)}`}
            title={`Archive ${name(p)}?`}
            impact={archiveImpact(p)}
            confirmLabel="Archive"
            onConfirm={() => act.mutate({ plan: p, action: "archive" })}
            loading={busy}
          >
            Archive
          </ConfirmButton>
        )}
      </>
    );
  };

  return (
    <Stack>
      <PageHeader title="Plans">
        <Button component={Link} to="/plans/new">
          New plan
        </Button>
      </PageHeader>
      <SegmentedControl
        aria-label="Show plans"
        fullWidth={phone}
        w={phone ? undefined : "fit-content"}
        value={status}
        onChange={(v) => setFilter("status", v === "all" ? null : v)}
        data={STATUSES}
      />
      <Refused error={act.error ?? move.error} />
      <Loaded query={plans} what="plans">
        {() =>
          rows.length === 0 ? (
            status === "all" ? (
              <Empty title="No plans yet" hint="Create a plan, then publish it to put it on sale." action={<Button component={Link} to="/plans/new" size="xs">New plan</Button>} />
            ) : (
              <Empty title={`No ${STATUSES.find((s) => s.value === status)?.label.toLowerCase()} plans`} hint="Choose All to see every plan." />
            )
          ) : (
            <>
              <Text size="sm" c="dimmed">
                Customers see the plans on sale in this order. Drafts take their place when published; archived plans are listed last.
              </Text>
              <DataList rows={rows} columns={columns} rowKey={(p) => p.id} actions={actions} testId="plans-table" rowTestId="plan-row" caption="Plans, in the catalog's order" />
              <Paged total={total} limit={LIMIT} page={page} onChange={(p) => setFilter("page", p)} noun="plan" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
