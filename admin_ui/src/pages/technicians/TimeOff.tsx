// A technician's time off: the periods still to come (or under way), each removable, and a form to
// add one: whole days by default (midnight to midnight in the business's zone), or part of a day.
// Visits already booked in a new period are named, to be given to someone else.
import { Alert, Anchor, Button, Card, Checkbox, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { instant, zoneLabel } from "@homeplans/web-common/time";
import { api, unwrap, type Schemas } from "../../api/client";
import type { Problem } from "../../api/session";
import { ConfirmButton } from "../../components/Confirm";
import { businessDate, span, zone } from "../../components/format";
import { Refused } from "../../components/States";
import { addDays, type TechnicianView } from "./week";
import { keys } from "../../queryKeys";

type Technician = TechnicianView;

function AddTimeOff({ technician }: { technician: Technician }) {
  const queries = useQueryClient();
  const today = businessDate();
  const [first, setFirst] = useState<string | null>(today);
  const [last, setLast] = useState<string | null>(today);
  const [partly, setPartly] = useState(false);
  const [from, setFrom] = useState("09:00");
  const [until, setUntil] = useState("13:00");
  const [reason, setReason] = useState("");
  const [added, setAdded] = useState<Schemas["TimeOffAdded"] | null>(null);
  const add = useMutation({
    mutationFn: () => {
      const start = first!;
      const end = last ?? start;
      return unwrap(
        api.POST("/api/v1/admin/technicians/{technician_id}/time-off", {
          params: { path: { technician_id: technician.id } },
          body: {
            starts_at: instant(start, partly ? from : "00:00", zone()),
            ends_at: partly ? instant(end, until, zone()) : instant(addDays(end, 1), "00:00", zone()),
            reason: reason.trim() || null,
          },
        }),
      );
    },
    onSuccess: (period) => {
      setAdded(period);
      setReason("");
      void queries.invalidateQueries({ queryKey: keys.technicians.all });
      void queries.invalidateQueries({ queryKey: keys.board.all });
    },
  });
  const problem = add.error as Problem | null;
  const fieldError = (field: string) => problem?.errors?.find((e) => e.field === field)?.message;

  return (
    <Stack gap="xs" data-testid="add-time-off">
      <Group align="end" wrap="wrap">
        <DatePickerInput label="First day away" value={first} onChange={(v) => setFirst(v as string | null)} w={170} />
        <DatePickerInput label="Last day away" value={last} onChange={(v) => setLast(v as string | null)} minDate={first ?? undefined} w={170} />
        <Checkbox label="Only part of the day" checked={partly} onChange={(e) => setPartly(e.currentTarget.checked)} mb={8} />
        {partly && (
          <>
            <TextInput label="Away from" value={from} onChange={(e) => setFrom(e.currentTarget.value)} maxLength={5} w={90} />
            <TextInput label="Back at" value={until} onChange={(e) => setUntil(e.currentTarget.value)} maxLength={5} w={90} error={fieldError("ends_at")} />
          </>
        )}
        <TextInput label="Reason" placeholder="e.g. annual leave" value={reason} onChange={(e) => setReason(e.currentTarget.value)} maxLength={200} w={200} />
        <Button onClick={() => add.mutate()} loading={add.isPending} disabled={!first}>
          Add time off
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Times are in {zone()} ({zoneLabel(new Date(), zone())}). Whole days run from midnight to midnight.
      </Text>
      {problem && !fieldError("ends_at") && <Refused error={problem} />}
      {added && added.visits_booked.length > 0 && (
        <Alert color="orange" title="Visits to give to someone else" data-testid="visits-to-move">
          <Stack gap={2}>
            {added.visits_booked.map((v) => (
              <Text key={v.id} size="sm">
                <Anchor component={Link} to={`/requests/${v.id}`}>{v.number}</Anchor>, {span(v.window_start, v.window_end)}: {technician.name} is booked then.
              </Text>
            ))}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

export function TimeOff({ technician, admin }: { technician: Technician; admin: boolean }) {
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE("/api/v1/admin/technicians/{technician_id}/time-off/{time_off_id}", { params: { path: { technician_id: technician.id, time_off_id: id } } })),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: keys.technicians.all });
      void queries.invalidateQueries({ queryKey: keys.board.all });
    },
  });
  return (
    <Card withBorder data-testid="time-off">
      <Title order={2} size="h4" mb="xs">
        Time off
      </Title>
      <Stack gap="sm">
        {technician.time_off.length === 0 ? (
          <Text size="sm" c="dimmed">
            No time off coming up. {technician.name} is offered visits whenever they work.
          </Text>
        ) : (
          <Stack gap={4} role="list" aria-label="Time off coming up">
            {technician.time_off.map((t) => (
              <Group key={t.id} gap="sm" role="listitem" data-testid="time-off-period" wrap="wrap">
                <Text size="sm">
                  Away {span(t.starts_at, t.ends_at)}
                  {t.reason ? ` · ${t.reason}` : ""}
                </Text>
                {admin && (
                  <ConfirmButton
                    size="compact-sm"
                    variant="subtle"
                    color="red"
                    title="Remove this time off?"
                    impact={`${technician.name} can be offered visits ${span(t.starts_at, t.ends_at)} again.`}
                    confirmLabel="Remove time off"
                    onConfirm={() => remove.mutate(t.id)}
                    loading={remove.isPending && remove.variables === t.id}
                    aria-label={`Remove time off ${span(t.starts_at, t.ends_at)}`}
                  >
                    Remove
                  </ConfirmButton>
                )}
              </Group>
            ))}
          </Stack>
        )}
        <Refused error={remove.error} />
        {admin && <AddTimeOff technician={technician} />}
      </Stack>
    </Card>
  );
}
