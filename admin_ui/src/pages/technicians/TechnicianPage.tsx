// One technician, editable in full by an admin (support reads): name, phone, email, skills, the
// postal codes they serve, their time zone (chosen from the API's list), whether they take visits,
// their week of working hours, and their time off. Every change is in the audit log.
import { Alert, Badge, Button, Card, Grid, Group, MultiSelect, Select, Stack, Switch, TagsInput, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import type { Problem } from "../../api/session";
import { isAdmin, useAuth } from "../../auth/AuthProvider";
import { PageHeader } from "../../components/bits";
import { Loaded } from "../../components/Loaded";
import { HoursEditor } from "./HoursEditor";
import { TimeOff } from "./TimeOff";
import { DAYS, type DayKey, summary, type TechnicianView, type Week, weekOf } from "./week";
import { keys } from "../../queryKeys";

type Technician = TechnicianView;

interface Draft {
  name: string;
  phone: string;
  email: string;
  skills: string[];
  zones: string[];
  timezone: string;
  is_active: boolean;
  week: Week;
}

const FIELDS = ["name", "phone", "email", "skills", "zones", "timezone", "is_active"] as const;

function draftOf(t: Technician): Draft {
  return {
    name: t.name,
    phone: t.phone,
    email: t.email ?? "",
    skills: t.skills.map((s) => s.slug),
    zones: [...t.zones],
    timezone: t.timezone,
    is_active: t.is_active,
    week: weekOf(t.working_hours),
  };
}

/** Where a 422's field goes: `zones.2` under Postal codes, `working_hours.mon.0` under Monday. */
function place(problem: Problem): { fields: Record<string, string>; days: Partial<Record<DayKey, string>>; rest: string[] } {
  const fields: Record<string, string> = {};
  const days: Partial<Record<DayKey, string>> = {};
  const rest: string[] = [];
  for (const e of problem.errors ?? []) {
    const [head, second] = e.field.split(".");
    if (head === "working_hours" && DAYS.includes(second as DayKey)) days[second as DayKey] = e.message;
    else if ((FIELDS as readonly string[]).includes(head)) fields[head] = e.message;
    else rest.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  if (!problem.errors?.length) rest.push(problem.detail);
  return { fields, days, rest };
}

function Editor({ technician, admin }: { technician: Technician; admin: boolean }) {
  const queries = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(technician));
  useEffect(() => setDraft(draftOf(technician)), [technician]);
  const categories = useQuery({
    queryKey: keys.categories.all,
    queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")),
    enabled: admin,
  });
  const zones = useQuery({ queryKey: keys.timeZones, queryFn: () => unwrap(api.GET("/api/v1/admin/time-zones")), staleTime: Infinity });
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/api/v1/admin/technicians/{technician_id}", {
          params: { path: { technician_id: technician.id } },
          body: {
            name: draft.name,
            phone: draft.phone,
            email: draft.email.trim() || null,
            skills: draft.skills,
            zones: draft.zones,
            timezone: draft.timezone,
            is_active: draft.is_active,
            working_hours: draft.week as never,
          },
        }),
      ),
    onSuccess: (saved) => {
      queries.setQueryData(keys.technicians.one(technician.id), saved);
      void queries.invalidateQueries({ queryKey: keys.technicians.all });
      void queries.invalidateQueries({ queryKey: keys.board.all });
      notifications.show({ color: "teal", message: `${saved.name}: changes saved.`, closeButtonProps: { "aria-label": "Dismiss" } });
    },
  });
  const placed = save.error ? place(save.error as unknown as Problem) : { fields: {} as Record<string, string>, days: {}, rest: [] };
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const skillOptions = admin
    ? (categories.data ?? []).map((c) => ({ value: c.slug, label: c.name }))
    : technician.skills.map((s) => ({ value: s.slug, label: s.name }));
  const zoneOptions = (zones.data ?? []).map((z) => ({ value: z.name, label: z.label }));
  if (!zoneOptions.some((z) => z.value === draft.timezone)) zoneOptions.push({ value: draft.timezone, label: draft.timezone });

  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              Details
            </Title>
            <Stack gap="sm">
              <TextInput label="Name" value={draft.name} onChange={(e) => set("name", e.currentTarget.value)} error={placed.fields.name} disabled={!admin} />
              <TextInput label="Phone" description="Their sign-in: a code is sent to it" value={draft.phone} onChange={(e) => set("phone", e.currentTarget.value)} error={placed.fields.phone} disabled={!admin} />
              <TextInput label="Email" placeholder="optional" value={draft.email} onChange={(e) => set("email", e.currentTarget.value)} error={placed.fields.email} disabled={!admin} />
              <MultiSelect label="Skills" data={skillOptions} value={draft.skills} onChange={(v) => set("skills", v)} error={placed.fields.skills} disabled={!admin} />
              <TagsInput label="Postal codes served" description="Type a code and press Enter" value={draft.zones} onChange={(v) => set("zones", v)} error={placed.fields.zones} disabled={!admin} splitChars={[",", " "]} />
              <Select label="Time zone of the hours" searchable data={zoneOptions} value={draft.timezone} onChange={(v) => v && set("timezone", v)} error={placed.fields.timezone} disabled={!admin} nothingFoundMessage="No such zone" />
              <Switch label="Takes visits (active)" checked={draft.is_active} onChange={(e) => set("is_active", e.currentTarget.checked)} disabled={!admin} />
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card withBorder>
            <Title order={2} size="h4" mb={4}>
              Working hours
            </Title>
            <Text size="sm" c="dimmed" mb="sm" data-testid="hours-summary">
              {summary(draft.week)} ({draft.timezone})
            </Text>
            <HoursEditor value={draft.week} onChange={(w) => set("week", w)} errors={placed.days} disabled={!admin} />
          </Card>
        </Grid.Col>
      </Grid>
      {placed.rest.length > 0 && (
        <Alert color="red" mt="sm" title="Not saved" role="alert">
          {placed.rest.join("; ")}
        </Alert>
      )}
      {admin && (
        <Group mt="sm">
          <Button type="submit" loading={save.isPending}>
            Save changes
          </Button>
          <Button variant="default" onClick={() => setDraft(draftOf(technician))}>
            Undo changes
          </Button>
        </Group>
      )}
    </form>
  );
}

export function TechnicianPage() {
  const { id = "" } = useParams();
  const { user } = useAuth();
  const admin = isAdmin(user);
  const technician = useQuery({
    queryKey: keys.technicians.one(id),
    queryFn: () => unwrap(api.GET("/api/v1/admin/technicians/{technician_id}", { params: { path: { technician_id: id } } })),
  });
  return (
    <Loaded query={technician} what="the technician">
      {(t) => (
        <Stack>
          <PageHeader title={t.name}>
            <Badge variant="outline" color={t.is_active ? "teal" : "gray"}>
              {t.is_active ? "Active" : "Inactive"}
            </Badge>
            <Button component="a" href={`tel:${t.phone}`} variant="light" size="xs">
              Call {t.phone}
            </Button>
          </PageHeader>
          {!admin && (
            <Text size="sm" c="dimmed">
              Support can read a technician; an admin changes them.
            </Text>
          )}
          <Editor technician={t} admin={admin} />
          <TimeOff technician={t} admin={admin} />
        </Stack>
      )}
    </Loaded>
  );
}
