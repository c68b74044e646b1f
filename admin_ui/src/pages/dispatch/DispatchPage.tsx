// Dispatch: a day or a week per technician (their hours, time off and booked visits, in the
// business's zone) with the queue of visits nobody has yet. At a desk the queue sits beside a
// day (above a week) and a visit is assigned by a suggestion's button or by dragging it onto a
// technician's row; on a phone the queue comes first, then each technician as a card. The day and
// the view are kept in the URL.
import { zoneLabel } from "@homeplans/web-common/time";
import { Anchor, Box, Button, Card, Grid, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { DatePickerInput } from "@mantine/dates";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { isAdmin, useAuth } from "../../auth/AuthProvider";
import { PageHeader } from "../../components/bits";
import { usePhone } from "../../components/DataList";
import { businessDate, zone } from "../../components/format";
import { count } from "../../components/Paged";
import { Empty, Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { addDays } from "../technicians/week";
import { type Board, type Moves, type Row, useMoves } from "./moves";
import { TechnicianDay } from "./TechnicianDay";
import { VisitCard } from "./VisitCard";
import { keys } from "../../queryKeys";

function Queue({ board, moves, admin, drag, wide }: { board: Board; moves: Moves; admin: boolean; drag: boolean; wide?: boolean }) {
  return (
    <Card withBorder data-testid="queue" component="section" aria-labelledby="queue-title">
      <Title order={2} size="h4" id="queue-title" mb={4}>
        Unassigned
      </Title>
      <Text size="sm" c="dimmed" mb="xs" data-testid="queue-count">
        {board.unassigned_total === 0 ? "Every visit has a technician." : `${count(board.unassigned_total, "visit")} waiting${drag ? ": open Suggest, or drag one onto a technician" : ""}`}
      </Text>
      <SimpleGrid cols={wide ? { base: 1, sm: 2, lg: 3 } : 1} spacing="xs">
        {board.unassigned.map((v) => (
          <VisitCard key={v.id} visit={v} moves={moves} admin={admin} draggable={drag} />
        ))}
      </SimpleGrid>
      {board.unassigned_total > board.unassigned.length && (
        <Anchor component={Link} to="/requests?status=pending" size="sm" mt="xs">
          All {board.unassigned_total} waiting visits
        </Anchor>
      )}
    </Card>
  );
}

function Who({ row }: { row: Row }) {
  return (
    <Stack gap={2}>
      <Anchor component={Link} to={`/technicians/${row.id}`} fw={600}>
        {row.name}
      </Anchor>
      <Anchor href={`tel:${row.phone}`} size="sm">
        {row.phone}
      </Anchor>
      <Text size="xs" c="dimmed">
        {row.skills.join(", ")}
      </Text>
    </Stack>
  );
}

/** At a desk: one row per technician, a column per day; a row takes a dropped visit. */
function Grid7({ board, moves, admin }: { board: Board; moves: Moves; admin: boolean }) {
  const [over, setOver] = useState<string | null>(null);
  const single = board.days.length === 1;
  return (
    <Table withTableBorder withColumnBorders layout="fixed" verticalSpacing="xs" data-testid="board" aria-label="Technicians by day">
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={single ? 200 : 150}>Technician</Table.Th>
          {board.days.map((d) => (
            <Table.Th key={d.date}>{single ? d.label : d.label.replace(/ \d{4}$/, "")}</Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {board.technicians.map((row) => (
          <Table.Tr
            key={row.id}
            data-testid="board-row"
            data-technician={row.name}
            bg={over === row.id ? "teal.0" : undefined}
            onDragOver={admin ? (e) => { e.preventDefault(); setOver(row.id); } : undefined}
            onDragLeave={() => setOver((o) => (o === row.id ? null : o))}
            onDrop={admin ? (e) => {
              e.preventDefault();
              setOver(null);
              const visit = board.unassigned.find((v) => v.id === e.dataTransfer.getData("text/plain"));
              if (visit) moves.assign.mutate({ visit, technicianId: row.id });
            } : undefined}
          >
            <Table.Th scope="row" style={{ verticalAlign: "top", fontWeight: "normal" }}>
              <Who row={row} />
            </Table.Th>
            {board.days.map((d) => (
              <Table.Td key={d.date} style={{ verticalAlign: "top" }}>
                <TechnicianDay row={row} day={d} moves={moves} admin={admin} bar={single} brief={!single} />
              </Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** On a phone: each technician a card, their day (or each day of the week) inside. */
function Cards({ board, moves, admin }: { board: Board; moves: Moves; admin: boolean }) {
  return (
    <Stack gap="sm" data-testid="board" role="list" aria-label="Technicians">
      {board.technicians.map((row) => (
        <Card key={row.id} withBorder padding="sm" role="listitem" data-testid="board-row" data-technician={row.name}>
          <Stack gap={6}>
            <Group justify="space-between" wrap="nowrap" align="start">
              <Title order={3} size="h5">
                <Anchor component={Link} to={`/technicians/${row.id}`} fw={700}>
                  {row.name}
                </Anchor>
              </Title>
              <Button component="a" href={`tel:${row.phone}`} size="compact-sm" variant="default" aria-label={`Call ${row.name}`}>
                Call
              </Button>
            </Group>
            {board.days.map((d) => (
              <Stack key={d.date} gap={2}>
                {board.days.length > 1 && (
                  <Text size="xs" fw={700} c="dimmed">
                    {d.label}
                  </Text>
                )}
                <TechnicianDay row={row} day={d} moves={moves} admin={admin} />
              </Stack>
            ))}
          </Stack>
        </Card>
      ))}
    </Stack>
  );
}

export function DispatchPage() {
  const { user } = useAuth();
  const admin = isAdmin(user);
  const phone = usePhone();
  const moves = useMoves();
  const [filters, setFilter] = useUrlFilters(["date", "days"] as const);
  const today = businessDate();
  const date = filters.date && /^\d{4}-\d{2}-\d{2}$/.test(filters.date) ? filters.date : today;
  const days = filters.days === "7" ? 7 : 1;
  const board = useQuery({
    queryKey: keys.board.days(date, days),
    queryFn: () => unwrap(api.GET("/api/v1/admin/dispatch/board", { params: { query: { date, days } } })),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const step = days === 7 ? "week" : "day";

  return (
    <Stack>
      <PageHeader title="Dispatch">
        <Text size="sm" c="dimmed" data-testid="board-zone">
          Times in {zoneLabel(new Date(), zone())} ({zone()})
        </Text>
      </PageHeader>
      <Group align="end" wrap="wrap" gap="xs">
        <SegmentedControl aria-label="View" value={String(days)} onChange={(v) => setFilter("days", v === "7" ? "7" : null)} data={[{ label: "Day", value: "1" }, { label: "Week", value: "7" }]} />
        <Button variant="default" onClick={() => setFilter("date", addDays(date, -days))} aria-label={`Previous ${step}`}>
          ‹ Previous
        </Button>
        <DatePickerInput label={days === 7 ? "Week from" : "Day"} value={date} onChange={(v) => setFilter("date", (v as string | null) ?? null)} w={160} />
        <Button variant="default" onClick={() => setFilter("date", addDays(date, days))} aria-label={`Next ${step}`}>
          Next ›
        </Button>
        <Button variant="subtle" onClick={() => setFilter("date", null)} disabled={date === today}>
          Today
        </Button>
      </Group>
      <Refused error={moves.error} />
      <Loaded query={board} what="the board">
        {(data) =>
          phone ? (
            <Stack>
              <Queue board={data} moves={moves} admin={admin} drag={false} />
              {data.technicians.length === 0 ? <Empty title="No active technicians" hint="Add technicians on the Technicians screen." /> : <Cards board={data} moves={moves} admin={admin} />}
            </Stack>
          ) : days === 1 ? (
            <Grid>
              <Grid.Col span={4}>
                <Queue board={data} moves={moves} admin={admin} drag={admin} />
              </Grid.Col>
              <Grid.Col span={8}>
                {data.technicians.length === 0 ? <Empty title="No active technicians" hint="Add technicians on the Technicians screen." /> : <Grid7 board={data} moves={moves} admin={admin} />}
              </Grid.Col>
            </Grid>
          ) : (
            <Stack>
              <Queue board={data} moves={moves} admin={admin} drag={admin} wide />
              {data.technicians.length === 0 ? <Empty title="No active technicians" hint="Add technicians on the Technicians screen." /> : (
                <Box>
                  <Grid7 board={data} moves={moves} admin={admin} />
                </Box>
              )}
            </Stack>
          )
        }
      </Loaded>
    </Stack>
  );
}
