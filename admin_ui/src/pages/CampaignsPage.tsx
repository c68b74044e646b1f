// Promotions: create a draft for an audience; see its message as customers will and send it to
// yourself as a test; start it behind a confirmation that says how many it goes to; follow its
// progress, pause, resume or cancel it. Support reads; admins act.
import { Button, Progress, Stack, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { isAdmin, useAuth } from "../auth/AuthProvider";
import { PageHeader, WorkflowLink } from "../components/bits";
import { ConfirmButton } from "../components/Confirm";
import { DataList, type Column } from "../components/DataList";
import { when } from "../components/format";
import { count } from "../components/Paged";
import { Empty, Refused } from "../components/States";
import { Loaded } from "../components/Loaded";
import { PreviewButton, StartButton, TestSendButton } from "./campaigns/DraftActions";
import { NewCampaign } from "./campaigns/NewCampaign";
import { StatusPill } from "../components/StatusPill";
import { keys } from "../queryKeys";

type Campaign = Schemas["CampaignOut"];
type Move = "start" | "pause" | "resume" | "cancel";
const STATUSES: Record<Campaign["status"], string> = { draft: "Draft", running: "Running", paused: "Paused", cancelled: "Cancelled", completed: "Completed" };
const COLORS: Record<Campaign["status"], "gray" | "teal" | "orange" | "dark" | "blue"> = { draft: "gray", running: "teal", paused: "orange", cancelled: "dark", completed: "blue" };

const COLUMNS: Column<Campaign>[] = [
  {
    label: "Campaign",
    primary: true,
    render: (c) => (
      <>
        <Text fw={600} size="sm">{c.title}</Text>
        <Text size="xs" c="dimmed" lineClamp={1}>{c.body}</Text>
      </>
    ),
  },
  { label: "Status", render: (c) => <StatusPill words={STATUSES[c.status]} color={COLORS[c.status]} /> },
  {
    label: "Progress",
    render: (c) => {
      if (c.total === null) return <Text size="xs" c="dimmed">Not started</Text>;
      const pct = c.total ? Math.round(((c.sent + c.skipped) / c.total) * 100) : 100;
      return (
        <>
          <Progress value={pct} size="sm" aria-label={`${pct}% sent`} />
          <Text size="xs">{c.sent.toLocaleString("en-IN")} sent{c.skipped ? `, ${c.skipped.toLocaleString("en-IN")} skipped` : ""} of {count(c.total, "customer")}</Text>
        </>
      );
    },
  },
  { label: "Created", render: (c) => when(c.created_at) },
];

export function CampaignsPage() {
  const { user } = useAuth();
  const admin = isAdmin(user);
  const queries = useQueryClient();
  const list = useQuery({
    queryKey: keys.campaigns.all,
    queryFn: () => unwrap(api.GET("/api/v1/admin/campaigns", { params: { query: { limit: 50 } } })),
    // Running ones move: follow them while any is running.
    refetchInterval: (q) => (q.state.data?.items.some((c) => c.status === "running") ? 2000 : false),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: keys.campaigns.all });
  const move = useMutation({
    mutationFn: ({ id, to }: { id: string; to: Move }) => unwrap(api.POST(`/api/v1/admin/campaigns/{campaign_id}/${to}`, { params: { path: { campaign_id: id } } })),
    onSuccess: refresh,
  });
  const moving = (c: Campaign, to: Move) => move.isPending && move.variables?.id === c.id && move.variables.to === to;
  return (
    <Stack>
      <PageHeader title="Campaigns" />
      {admin && <NewCampaign done={refresh} />}
      <Refused error={move.error} />
      <Loaded query={list} what="campaigns">
        {(data) =>
          data.items.length === 0 ? (
            <Empty title="No campaigns yet" hint={admin ? "Write one above: it is saved as a draft, and nobody gets anything until you start it." : "Admins create campaigns."} />
          ) : (
            <DataList
              caption="Campaigns"
              rows={data.items}
              columns={COLUMNS}
              rowKey={(c) => c.id}
              testId="campaigns-table"
              rowTestId="campaign-row"
              actions={(c) => (
                <>
                  <PreviewButton campaign={c} />
                  {c.status !== "draft" && <WorkflowLink url={c.workflow_url} id={c.workflow_id} />}
                  {admin && c.status === "draft" && <TestSendButton campaign={c} />}
                  {admin && c.status === "draft" && <StartButton campaign={c} onStart={() => move.mutate({ id: c.id, to: "start" })} loading={moving(c, "start")} />}
                  {admin && c.status === "running" && <Button size="xs" variant="default" onClick={() => move.mutate({ id: c.id, to: "pause" })} loading={moving(c, "pause")}>Pause</Button>}
                  {admin && c.status === "paused" && <Button size="xs" onClick={() => move.mutate({ id: c.id, to: "resume" })} loading={moving(c, "resume")}>Resume</Button>}
                  {admin && (c.status === "running" || c.status === "paused" || c.status === "draft") && (
                    <ConfirmButton
                      size="xs"
                      variant="subtle"
                      color="red"
                      title={`Cancel “${c.title}”?`}
                      impact={c.total === null ? "The draft is cancelled: nobody is sent it, and it cannot be started." : `Nobody else is sent it: ${c.sent.toLocaleString("en-IN")} of ${count(c.total, "customer")} already have it.`}
                      confirmLabel="Cancel the campaign"
                      onConfirm={() => move.mutate({ id: c.id, to: "cancel" })}
                      loading={moving(c, "cancel")}
                      aria-label={`Cancel “${c.title}”`}
                    >
                      Cancel
                    </ConfirmButton>
                  )}
                </>
              )}
            />
          )
        }
      </Loaded>
    </Stack>
  );
}
