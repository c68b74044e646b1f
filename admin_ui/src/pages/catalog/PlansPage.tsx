// Plans of every status in display order: publish, archive, move up/down (reorder).
import { ActionIcon, Anchor, Button, Group, SegmentedControl, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { PageHeader, StatusBadge } from "../../components/bits";
import { money } from "../../components/format";
import { Empty, ErrorState, Loading, Refused } from "../../components/States";

type Plan = Schemas["AdminPlanOut"];

export function PlansPage() {
  const queries = useQueryClient();
  const [status, setStatus] = useState<"all" | Schemas["PlanStatus"]>("all");
  const plans = useQuery({
    queryKey: ["plans", "list", status],
    queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans", { params: { query: { status: status === "all" ? undefined : status, limit: 100 } } })),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ["plans"] });
  const act = useMutation({
    mutationFn: ({ plan, action }: { plan: Plan; action: "publish" | "archive" }) =>
      unwrap(
        action === "publish"
          ? api.POST("/api/v1/admin/catalog/plans/{plan_id}/publish", { params: { path: { plan_id: plan.id } } })
          : api.POST("/api/v1/admin/catalog/plans/{plan_id}/archive", { params: { path: { plan_id: plan.id } } }),
      ),
    onSuccess: refresh,
  });
  const reorder = useMutation({
    mutationFn: (ids: string[]) => unwrap(api.POST("/api/v1/admin/catalog/plans/reorder", { body: { ids } })),
    onSuccess: refresh,
  });
  const move = (items: Plan[], index: number, by: number) => {
    const ids = items.map((p) => p.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + by, 0, moved);
    reorder.mutate(ids);
  };

  return (
    <Stack>
      <PageHeader title="Plans">
        <Button component={Link} to="/plans/new">
          New plan
        </Button>
      </PageHeader>
      <SegmentedControl
        w="fit-content"
        value={status}
        onChange={(v) => setStatus(v as typeof status)}
        data={[{ value: "all", label: "All" }, { value: "draft", label: "Drafts" }, { value: "active", label: "On sale" }, { value: "archived", label: "Archived" }]}
      />
      <Refused error={act.error ?? reorder.error} />
      {plans.isPending ? (
        <Loading what="plans" />
      ) : plans.isError ? (
        <ErrorState what="plans" error={plans.error} retry={() => plans.refetch()} />
      ) : plans.data.items.length === 0 ? (
        <Empty title="No plans yet" hint="Create a plan, then publish it to put it on sale." action={<Button component={Link} to="/plans/new" size="xs">New plan</Button>} />
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table striped data-testid="plans-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Price</Table.Th>
                <Table.Th>Visits</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {plans.data.items.map((p, i, all) => (
                <Table.Tr key={p.id} data-testid="plan-row">
                  <Table.Td>
                    <Group gap={2} wrap="nowrap">
                      <ActionIcon size="sm" variant="subtle" aria-label="Move up" disabled={i === 0 || status !== "all"} onClick={() => move(all, i, -1)}>↑</ActionIcon>
                      <ActionIcon size="sm" variant="subtle" aria-label="Move down" disabled={i === all.length - 1 || status !== "all"} onClick={() => move(all, i, 1)}>↓</ActionIcon>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/plans/${p.id}`}>{p.current_version.name}</Anchor>
                    <Text size="xs" c="dimmed">{p.slug}</Text>
                  </Table.Td>
                  <Table.Td>{money(p.current_version.price.total_minor, p.current_version.price.currency)}</Table.Td>
                  <Table.Td>{p.current_version.visit_cap} in {p.current_version.validity_days} days</Table.Td>
                  <Table.Td><StatusBadge status={p.status} /></Table.Td>
                  <Table.Td>v{p.current_version.number}{p.sold ? " · sold" : ""}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      {p.status !== "active" && (
                        <Button size="xs" onClick={() => act.mutate({ plan: p, action: "publish" })} loading={act.isPending && act.variables?.plan.id === p.id}>Publish</Button>
                      )}
                      {p.status === "active" && (
                        <Button size="xs" variant="default" onClick={() => act.mutate({ plan: p, action: "archive" })} loading={act.isPending && act.variables?.plan.id === p.id}>Archive</Button>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
