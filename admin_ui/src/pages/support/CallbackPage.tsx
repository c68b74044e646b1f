// One callback: who asked, about what, how long they have waited; call them (a tel: link) and log
// how it went; hand it to a colleague; close it with an outcome. Its history names who did what.
// Outcomes are radio buttons, one tap each on a phone (a dropdown at the foot of a phone's page
// had no room to open).
import { Button, Card, Grid, Group, Radio, Select, Stack, Text, Textarea, Timeline, Title, Anchor } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { api, unwrap, type Schemas } from "../../api/client";
import { useStaff } from "../../api/staff";
import { PageHeader } from "../../components/bits";
import { span, when } from "../../components/format";
import { Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { StatusPill } from "../../components/StatusPill";
import { CALL_OUTCOMES, CLOSE_OUTCOMES, REASONS, STATUSES, STATUS_COLORS, options, waitedFor } from "./words";
import { keys } from "../../queryKeys";

type Callback = Schemas["AdminCallbackOut"];

function Line({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" align="start">
      <Text size="sm" c="dimmed" w={110} style={{ flexShrink: 0 }}>{label}</Text>
      <Text size="sm" component="div" style={{ minWidth: 0, overflowWrap: "anywhere" }}>{children}</Text>
    </Group>
  );
}

function Outcomes({ label, choices, value, onChange, focusRef }: {
  label: string;
  choices: { value: string; label: string }[];
  value: string | null;
  onChange: (value: string) => void;
  focusRef?: React.RefObject<HTMLDivElement | null>;
}) {
  return (
    <Radio.Group label={label} value={value} onChange={onChange} ref={focusRef} tabIndex={-1}>
      <Stack gap={6} mt={4}>
        {choices.map((c) => <Radio key={c.value} value={c.value} label={c.label} />)}
      </Stack>
    </Radio.Group>
  );
}

function CallCard({ callback, done }: { callback: Callback; done: () => void }) {
  const [outcome, setOutcome] = useState<Schemas["CallOutcome"] | null>(null);
  const [notes, setNotes] = useState("");
  const outcomeRef = useRef<HTMLDivElement>(null);
  const log = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/admin/callbacks/{callback_id}/calls", {
        params: { path: { callback_id: callback.id } },
        body: { outcome: outcome!, notes: notes.trim() || null },
      })),
    onSuccess: () => {
      setOutcome(null);
      setNotes("");
      notifications.show({ color: "green", message: "Call logged on the customer's record.", closeButtonProps: { "aria-label": "Close" } });
      done();
    },
  });
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">Call</Title>
      <Stack gap="xs">
        <Button component="a" href={callback.tel} w="fit-content" maw="100%" onClick={() => outcomeRef.current?.focus()} data-testid="call-link">
          Call {callback.phone}
        </Button>
        <Text size="sm" c="dimmed">Then say how it went: it goes on the customer's record and in this callback's history.</Text>
        <Outcomes label="How did the call go?" choices={options(CALL_OUTCOMES)} value={outcome} onChange={(v) => setOutcome(v as Schemas["CallOutcome"])} focusRef={outcomeRef} />
        <Textarea label="Notes" autosize minRows={1} value={notes} onChange={(e) => setNotes(e.currentTarget.value)} />
        <Refused error={log.error} />
        <Group justify="end">
          <Button onClick={() => log.mutate()} disabled={!outcome} loading={log.isPending}>Log the call</Button>
        </Group>
      </Stack>
    </Card>
  );
}

function HandOver({ callback, done }: { callback: Callback; done: () => void }) {
  const staff = useStaff({ activeOnly: true });
  const [to, setTo] = useState<string | null>(null);
  const hand = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/callbacks/{callback_id}/assign", { params: { path: { callback_id: callback.id } }, body: { staff_id: to! } })),
    onSuccess: () => { setTo(null); done(); },
  });
  const people = (staff.data ?? []).filter((u) => u.id !== callback.taken_by?.id).map((u) => ({ value: u.id, label: u.name ?? u.email ?? "A colleague" }));
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">Hand over</Title>
      <Stack gap="xs">
        <Select label="Staff member" placeholder={staff.isPending ? "Loading…" : "Pick a colleague"} data={people} value={to} onChange={setTo} searchable />
        <Refused error={hand.error} />
        <Group justify="end">
          <Button variant="default" onClick={() => hand.mutate()} disabled={!to} loading={hand.isPending}>Hand over</Button>
        </Group>
      </Stack>
    </Card>
  );
}

function CloseCard({ callback, done }: { callback: Callback; done: () => void }) {
  const [outcome, setOutcome] = useState<Schemas["CallbackOutcome"] | null>(null);
  const [notes, setNotes] = useState("");
  const close = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/callbacks/{callback_id}/close", { params: { path: { callback_id: callback.id } }, body: { outcome: outcome!, notes: notes.trim() || null } })),
    onSuccess: done,
  });
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">Close</Title>
      <Stack gap="xs">
        <Outcomes label="Outcome" choices={options(CLOSE_OUTCOMES)} value={outcome} onChange={(v) => setOutcome(v as Schemas["CallbackOutcome"])} />
        <Textarea label="Notes for staff" description="The customer does not see them." autosize minRows={1} value={notes} onChange={(e) => setNotes(e.currentTarget.value)} />
        <Refused error={close.error} />
        <Group justify="end">
          <Button color="gray" onClick={() => close.mutate()} disabled={!outcome} loading={close.isPending}>Close the callback</Button>
        </Group>
      </Stack>
    </Card>
  );
}

function History({ id }: { id: string }) {
  const history = useQuery({ queryKey: keys.callbacks.history(id), queryFn: () => unwrap(api.GET("/api/v1/admin/callbacks/{callback_id}/history", { params: { path: { callback_id: id } } })) });
  return (
    <Card withBorder data-testid="callback-history">
      <Title order={2} size="h4" mb="sm">History</Title>
      <Loaded query={history} what="the history" retry={false}>
        {(data) => (
          <Timeline bulletSize={14} lineWidth={2} active={data.length}>
            {data.map((e, i) => (
              <Timeline.Item key={`${e.at}-${i}`} title={e.text} data-testid="history-item">
                <Text size="xs" c="dimmed">{when(e.at)} · {e.actor}</Text>
                {e.notes && <Text size="sm">{e.notes}</Text>}
              </Timeline.Item>
            ))}
          </Timeline>
        )}
      </Loaded>
    </Card>
  );
}

export function CallbackPage() {
  const { id = "" } = useParams();
  const queries = useQueryClient();
  const callback = useQuery({ queryKey: keys.callbacks.one(id), queryFn: () => unwrap(api.GET("/api/v1/admin/callbacks/{callback_id}", { params: { path: { callback_id: id } } })) });
  const refresh = () => queries.invalidateQueries({ queryKey: keys.callbacks.all });
  const take = useMutation({ mutationFn: () => unwrap(api.POST("/api/v1/admin/callbacks/{callback_id}/take", { params: { path: { callback_id: id } } })), onSuccess: refresh });
  return (
    <Loaded query={callback} what="the callback">
      {(c) => {
        const waiting = c.status === "open" || c.status === "taken";
        const who = c.customer_name ?? "a customer";
        return (
          <Stack>
            <PageHeader title={`Callback for ${who}`}>
              <StatusPill words={STATUSES[c.status]} color={STATUS_COLORS[c.status]} />
              {c.status === "open" && <Button onClick={() => take.mutate()} loading={take.isPending}>Take</Button>}
            </PageHeader>
            <Refused error={take.error} />
            <Grid>
              <Grid.Col span={{ base: 12, md: 6 }}>
                <Stack>
                  <Card withBorder>
                    <Title order={2} size="h4" mb="xs">Asked for</Title>
                    <Stack gap={4}>
                      <Line label="Customer"><Anchor component={Link} to={`/customers/${c.user_id}`}>{who}</Anchor></Line>
                      <Line label="About">{REASONS[c.reason]}{c.note ? `: ${c.note}` : ""}</Line>
                      <Line label="Number"><Anchor href={c.tel}>{c.phone}</Anchor></Line>
                      <Line label="Best time">{c.preferred_from && c.preferred_to ? span(c.preferred_from, c.preferred_to) : "Any time"}</Line>
                      <Line label="Asked">{when(c.created_at)}</Line>
                      <Line label="Waiting"><span data-testid="waited">{waitedFor(c)}</span></Line>
                      {c.taken_by && <Line label={waiting ? "Held by" : "Taken by"}>{c.taken_by.name ?? "a colleague"}</Line>}
                      {c.closed_by && <Line label="Closed by">{c.closed_by.name ?? "a colleague"}{c.outcome ? ` · ${CLOSE_OUTCOMES[c.outcome]}` : ""}</Line>}
                    </Stack>
                  </Card>
                  <History id={c.id} />
                </Stack>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 6 }}>
                {waiting ? (
                  <Stack>
                    <CallCard callback={c} done={refresh} />
                    <HandOver callback={c} done={refresh} />
                    <CloseCard callback={c} done={refresh} />
                  </Stack>
                ) : (
                  <Card withBorder>
                    <Text size="sm">
                      This callback is {c.status === "closed" ? "closed" : "cancelled"}. A later call goes on{" "}
                      <Anchor component={Link} to={`/customers/${c.user_id}`}>the customer's record</Anchor>.
                    </Text>
                  </Card>
                )}
              </Grid.Col>
            </Grid>
          </Stack>
        );
      }}
    </Loaded>
  );
}
