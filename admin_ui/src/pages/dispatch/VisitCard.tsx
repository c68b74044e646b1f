// One visit on the board: its number, what, when (in the business's zone), who asked, where; an
// escalated or overdue one stands out by a badge that says so and a coloured edge. A waiting visit
// opens its suggested technicians (with their reasons) and is assigned with one click, or dragged
// onto a technician at a desk; a booked one is started and completed here; the customer is a tel:
// link away. Every button fits a 390 px screen.
import { Anchor, Badge, Button, Card, Group, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { StatusBadge } from "../../components/bits";
import { span } from "../../components/format";
import { Loaded } from "../../components/Loaded";
import { hours, type Moves, type Visit } from "./moves";
import { keys } from "../../queryKeys";

const ESCALATED = "#ad390c"; // orange at 6.2:1 under white text (orange.9 is 4.0:1)

const SHOWN = 3;

function Flags({ visit }: { visit: Visit }) {
  return (
    <>
      {visit.escalated && (
        <Badge color={ESCALATED} size="sm" data-testid="flag-escalated">
          Escalated
        </Badge>
      )}
      {visit.overdue && (
        <Badge color="red.9" size="sm" data-testid="flag-overdue">
          Overdue
        </Badge>
      )}
    </>
  );
}

function Suggestions({ visit, moves }: { visit: Visit; moves: Moves }) {
  const found = useQuery({
    queryKey: keys.requests.suggestions(visit.id),
    queryFn: () => unwrap(api.GET("/api/v1/admin/service-requests/{request_id}/suggestions", { params: { path: { request_id: visit.id } } })),
  });
  return (
    <Loaded query={found} what="suggestions">
      {(data) => {
        if (!data.length) return <Text size="sm" c="dimmed">Nobody does {visit.category.toLowerCase()}: add the skill to a technician.</Text>;
        return (
          <Stack gap={6} data-testid="board-suggestions">
            {data.slice(0, SHOWN).map((s) => (
              <Card key={s.technician_id} withBorder padding="xs" data-testid="board-suggestion">
                <Group justify="space-between" wrap="wrap" gap="xs" align="start">
                  <Stack gap={0} style={{ minWidth: 0, flex: 1 }}>
                    <Group gap={6}>
                      <Text fw={600} size="sm">{s.name}</Text>
                      <Badge size="xs" variant="outline" color={s.eligible ? "teal" : "gray"}>
                        {s.eligible ? "Fits" : "Does not fit"}
                      </Badge>
                    </Group>
                    {(s.eligible ? s.reasons : s.problems)?.map((r) => (
                      <Text key={r} size="xs" c={s.eligible ? "dimmed" : "red.9"}>
                        {s.eligible ? "✓" : "✗"} {r}
                      </Text>
                    ))}
                  </Stack>
                  <Button
                    size="compact-sm"
                    variant={s.eligible ? "filled" : "default"}
                    aria-label={`Assign ${visit.number} to ${s.name}`}
                    loading={moves.assign.isPending && moves.assign.variables?.technicianId === s.technician_id && moves.assign.variables?.visit.id === visit.id}
                    onClick={() => moves.assign.mutate({ visit, technicianId: s.technician_id })}
                  >
                    Assign
                  </Button>
                </Group>
              </Card>
            ))}
          </Stack>
        );
      }}
    </Loaded>
  );
}

export function VisitCard({
  visit,
  moves,
  admin,
  draggable,
  compact,
  brief,
}: {
  visit: Visit;
  moves: Moves;
  admin: boolean;
  draggable?: boolean;
  /** Within a day's column: the hours only (the column names the day). */
  compact?: boolean;
  /** In a narrow column: without the customer and address (the request's page has them). */
  brief?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const late = visit.overdue || visit.escalated;
  const waiting = visit.status === "pending";
  const who = visit.customer_name ?? "the customer";
  return (
    <Card
      withBorder
      padding="xs"
      data-testid="board-visit"
      data-number={visit.number}
      draggable={draggable}
      onDragStart={(e) => {
        e.dataTransfer.setData("text/plain", visit.id);
        e.dataTransfer.effectAllowed = "move";
      }}
      style={{
        borderLeft: `4px solid var(--mantine-color-${visit.overdue ? "red-9" : visit.escalated ? "orange-9" : "teal-9"})`,
        cursor: draggable ? "grab" : undefined,
        background: late ? "var(--mantine-color-red-0)" : undefined,
      }}
    >
      <Stack gap={4}>
        <Group gap={6} wrap="wrap">
          <Anchor component={Link} to={`/requests/${visit.id}`} fw={700} size="sm">
            {visit.number}
          </Anchor>
          <Text size="sm">{visit.category}</Text>
          {!waiting && <StatusBadge status={visit.status} />}
          <Flags visit={visit} />
        </Group>
        <Text size="sm" data-testid="visit-time">
          {compact ? hours(visit.window_start, visit.window_end) : span(visit.window_start, visit.window_end)}
        </Text>
        {!brief && (
          <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
            {who} · {visit.address}
          </Text>
        )}
        {admin && (
          <Group gap="xs" wrap="wrap">
            {waiting && (
              <Button size="compact-sm" variant="light" onClick={() => setOpen((o) => !o)} aria-expanded={open} aria-label={`${open ? "Hide" : "Suggest"} technicians for ${visit.number}`}>
                {open ? "Hide" : "Suggest"}
              </Button>
            )}
            {visit.status === "assigned" && (
              <Button size="compact-sm" aria-label={`Start ${visit.number}`} loading={moves.start.isPending && moves.start.variables?.id === visit.id} onClick={() => moves.start.mutate(visit)}>
                Start
              </Button>
            )}
            {visit.status === "in_progress" && (
              <Button size="compact-sm" color="teal.9" aria-label={`Complete ${visit.number}`} loading={moves.complete.isPending && moves.complete.variables?.id === visit.id} onClick={() => moves.complete.mutate(visit)}>
                Complete
              </Button>
            )}
            {visit.customer_phone && (
              <Button component="a" href={`tel:${visit.customer_phone}`} size="compact-sm" variant="default" aria-label={`Call ${who} about ${visit.number}`}>
                Call
              </Button>
            )}
          </Group>
        )}
        {!admin && visit.customer_phone && (
          <Anchor href={`tel:${visit.customer_phone}`} size="sm">
            Call {who}
          </Anchor>
        )}
        {open && waiting && admin && <Suggestions visit={visit} moves={moves} />}
      </Stack>
    </Card>
  );
}
