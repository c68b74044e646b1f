// One technician's business day on the board: the hours they work, the time off they have, the
// visits they are booked for (each a card with its moves); in the day view a bar draws the same
// to scale (for the eye only: the words say it all).
import { Box, Stack, Text } from "@mantine/core";
import type { Schemas } from "../../api/client";
import { hours, type Moves, type Row } from "./moves";
import { VisitCard } from "./VisitCard";

type Day = Schemas["BoardDay"];

const at = (iso: string) => Date.parse(iso);
const later = (a: string, b: string) => (at(a) >= at(b) ? a : b);
const sooner = (a: string, b: string) => (at(a) <= at(b) ? a : b);

function overlapping<T extends { start: string; end: string }>(items: readonly T[], day: Day): T[] {
  return items.filter((i) => at(i.start) < at(day.ends_at) && at(i.end) > at(day.starts_at));
}

/** The day's share of [start, end), in percent of the hours the bar shows. */
function place(start: string, end: string, from: number, to: number): { left: string; width: string } {
  const a = Math.max(at(start), from);
  const b = Math.min(at(end), to);
  return { left: `${((a - from) / (to - from)) * 100}%`, width: `${Math.max(0, ((b - a) / (to - from)) * 100)}%` };
}

function Bar({ row, day }: { row: Row; day: Day }) {
  // 06:00 to 22:00 of the business day: where nearly all work falls.
  const from = at(day.starts_at) + 6 * 3_600_000;
  const to = at(day.starts_at) + 22 * 3_600_000;
  return (
    <Box aria-hidden pos="relative" h={14} bg="gray.1" style={{ borderRadius: 4, overflow: "hidden" }} data-testid="day-bar">
      {overlapping(row.working, day).map((w) => (
        <Box key={w.start} pos="absolute" top={0} bottom={0} bg="teal.2" style={place(w.start, w.end, from, to)} />
      ))}
      {overlapping(row.away, day).map((a) => (
        <Box key={a.id} pos="absolute" top={0} bottom={0} bg="gray.6" style={place(a.start, a.end, from, to)} />
      ))}
      {row.visits
        .filter((v) => at(v.window_start) < at(day.ends_at) && at(v.window_end) > at(day.starts_at))
        .map((v) => (
          <Box key={v.id} pos="absolute" top={3} bottom={3} bg={v.overdue ? "red.9" : "blue.7"} style={{ ...place(v.window_start, v.window_end, from, to), borderRadius: 3 }} />
        ))}
    </Box>
  );
}

export function TechnicianDay({
  row,
  day,
  moves,
  admin,
  bar,
  brief,
}: {
  row: Row;
  day: Day;
  moves: Moves;
  admin: boolean;
  bar?: boolean;
  brief?: boolean;
}) {
  const working = overlapping(row.working, day);
  const away = overlapping(row.away, day);
  const visits = row.visits.filter((v) => at(v.window_start) < at(day.ends_at) && at(v.window_end) > at(day.starts_at));
  return (
    <Stack gap={4} data-testid="technician-day" data-date={day.date}>
      {bar && <Bar row={row} day={day} />}
      <Text size="sm" data-testid="works">
        {working.length ? `Works ${working.map((w) => hours(w.start, w.end, day.ends_at)).join(", ")}` : "Day off"}
      </Text>
      {away.map((a) => {
        const whole = at(a.start) <= at(day.starts_at) && at(a.end) >= at(day.ends_at);
        return (
          <Text key={a.id} size="sm" fw={600} c="gray.9" bg="gray.2" px={6} style={{ borderRadius: 4 }} data-testid="away">
            Away {whole ? "all day" : hours(later(a.start, day.starts_at), sooner(a.end, day.ends_at), day.ends_at)}
            {a.reason ? ` · ${a.reason}` : ""}
          </Text>
        );
      })}
      {visits.map((v) => (
        <VisitCard key={v.id} visit={v} moves={moves} admin={admin} compact brief={brief} />
      ))}
    </Stack>
  );
}
