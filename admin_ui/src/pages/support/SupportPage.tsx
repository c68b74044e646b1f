// The support inbox: callbacks customers asked for, the oldest waiting first, each with how long
// it has waited; take one, call the number (a tel: link), open it to log the call, hand it over or
// close it. Filters in the URL.
import { Anchor, Button, Group, SegmentedControl, Stack, Text } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { useAuth } from "../../auth/AuthProvider";
import { PageHeader } from "../../components/bits";
import { DataList, type Column } from "../../components/DataList";
import { span, when } from "../../components/format";
import { Paged, pageWindow } from "../../components/Paged";
import { Empty, Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { StatusPill } from "../../components/StatusPill";
import { REASONS, STATUSES, STATUS_COLORS, waitedFor } from "./words";
import { keys } from "../../queryKeys";

type Callback = Schemas["AdminCallbackOut"];
const LIMIT = 25;
const SHOWS = [
  { value: "waiting", label: "Waiting" },
  { value: "mine", label: "Mine" },
  { value: "closed", label: "Closed" },
  { value: "all", label: "All" },
];

export function SupportPage() {
  const { user } = useAuth();
  const queries = useQueryClient();
  const [filters, set] = useUrlFilters(["show"] as const);
  const show = filters.show ?? "waiting";
  const query = {
    waiting: show === "waiting" || show === "mine" ? true : undefined,
    taken_by: show === "mine" ? user?.id : undefined,
    status: show === "closed" ? ("closed" as const) : undefined,
    ...pageWindow(filters.page, LIMIT),
  };
  const list = useQuery({
    queryKey: keys.callbacks.page(query),
    queryFn: () => unwrap(api.GET("/api/v1/admin/callbacks", { params: { query } })),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000, // the queue moves as customers ask and colleagues take
  });
  const take = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/admin/callbacks/{callback_id}/take", { params: { path: { callback_id: id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.callbacks.all }),
  });

  const columns: Column<Callback>[] = [
    {
      label: "Customer",
      primary: true,
      render: (c) => (
        <Anchor component={Link} to={`/support/callbacks/${c.id}`} data-testid="callback-link">
          {c.customer_name ?? "A customer"}
        </Anchor>
      ),
    },
    {
      label: "About",
      render: (c) => (
        <>
          <Text size="sm">{REASONS[c.reason]}</Text>
          {c.note && <Text size="xs" c="dimmed" lineClamp={2}>{c.note}</Text>}
        </>
      ),
    },
    { label: "Waiting", render: (c) => <Text size="sm" data-testid="waited">{waitedFor(c)}</Text> },
    { label: "Asked", render: (c) => when(c.created_at) },
    { label: "Best time", render: (c) => (c.preferred_from && c.preferred_to ? span(c.preferred_from, c.preferred_to) : "Any time") },
    {
      label: "Status",
      render: (c) => (
        <Group gap={6} wrap="wrap">
          <StatusPill words={STATUSES[c.status]} color={STATUS_COLORS[c.status]} />
          {c.taken_by && <Text size="xs" c="dimmed">{c.status === "taken" ? "held by" : "by"} {c.taken_by.name ?? "a colleague"}</Text>}
        </Group>
      ),
    },
  ];

  return (
    <Stack>
      <PageHeader title="Support" />
      <SegmentedControl
        aria-label="Which callbacks"
        value={show}
        onChange={(v) => set("show", v === "waiting" ? null : v)}
        data={SHOWS}
        w="fit-content"
        maw="100%"
      />
      <Refused error={take.error} />
      <Loaded query={list} what="callbacks">
        {(data) =>
          data.items.length === 0 ? (
            <Empty
              title={show === "waiting" ? "Nobody is waiting for a call" : "No callbacks here"}
              hint={show === "waiting" ? "Callbacks customers ask for in the app appear here, the oldest first." : "Pick another view above."}
            />
          ) : (
            <>
              <DataList
                caption="Callbacks"
                rows={data.items}
                columns={columns}
                rowKey={(c) => c.id}
                testId="callbacks"
                rowTestId="callback-row"
                actions={(c) => (
                  <>
                    {c.status === "open" && (
                      <Button size="xs" onClick={() => take.mutate(c.id)} loading={take.isPending && take.variables === c.id}>
                        Take
                      </Button>
                    )}
                    {(c.status === "open" || c.status === "taken") && (
                      <Button size="xs" variant="default" component="a" href={c.tel} aria-label={`Call ${c.customer_name ?? "the customer"} on ${c.phone}`}>
                        Call
                      </Button>
                    )}
                    <Button size="xs" variant="default" component={Link} to={`/support/callbacks/${c.id}`} aria-label={`Open the callback for ${c.customer_name ?? "the customer"}`}>
                      Open
                    </Button>
                  </>
                )}
              />
              <Paged total={data.total} limit={LIMIT} page={filters.page} onChange={(p) => set("page", p)} noun="callback" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
