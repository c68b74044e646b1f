// Technicians: who does what where and when. Support reads; admins add them (then set their hours
// and time off on the technician's own page).
import { zodResolver } from "@hookform/resolvers/zod";
import { Alert, Anchor, Badge, Button, Card, Group, MultiSelect, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { Link, useNavigate } from "react-router";
import { z } from "zod";
import { api, unwrap } from "../../api/client";
import type { Problem } from "../../api/session";
import { isAdmin, useAuth } from "../../auth/AuthProvider";
import { PageHeader } from "../../components/bits";
import { DataList } from "../../components/DataList";
import { applyFieldErrors } from "../../components/fieldErrors";
import { Paged, pageWindow } from "../../components/Paged";
import { Empty } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { summary, USUAL_WEEK, weekOf } from "./week";
import { keys } from "../../queryKeys";

const LIMIT = 25;

const schema = z.object({
  name: z.string().trim().min(1, "Enter the name"),
  phone: z.string().trim().min(6, "Enter the phone number, e.g. +919812340001"),
  skills: z.array(z.string()).min(1, "Choose at least one skill"),
  zones: z.string().trim().min(3, "Enter the postal codes served, separated by commas"),
  timezone: z.string().trim().min(1, "Choose the time zone of their hours"),
});
type Form = z.infer<typeof schema>;

function AddTechnician() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [problems, setProblems] = useState<string[]>([]);
  const categories = useQuery({ queryKey: keys.categories.all, queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const zones = useQuery({ queryKey: keys.timeZones, queryFn: () => unwrap(api.GET("/api/v1/admin/time-zones")), staleTime: Infinity });
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: { name: "", phone: "", skills: [], zones: "", timezone: "Asia/Kolkata" } });
  const create = useMutation({
    mutationFn: (f: Form) =>
      unwrap(api.POST("/api/v1/admin/technicians", {
        body: { name: f.name, phone: f.phone, skills: f.skills, zones: f.zones.split(/[,\s]+/).filter(Boolean), timezone: f.timezone, working_hours: USUAL_WEEK as never, is_active: true },
      })),
    onSuccess: (created) => {
      void queries.invalidateQueries({ queryKey: keys.technicians.all });
      navigate(`/technicians/${created.id}`);
    },
    onError: (e: Problem) => setProblems(applyFieldErrors(e, form.setError, ["name", "phone", "skills", "zones", "timezone"], (f) => f.replace(/^(skills|zones)\.\d+$/, "$1"))),
  });
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">Add a technician</Title>
      <form noValidate onSubmit={form.handleSubmit((v) => create.mutate(v))}>
        <Group align="start" wrap="wrap">
          <TextInput label="Name" {...form.register("name")} error={form.formState.errors.name?.message} />
          <TextInput label="Phone" {...form.register("phone")} error={form.formState.errors.phone?.message} />
          <Controller control={form.control} name="skills" render={({ field }) => (
            <MultiSelect label="Skills" data={(categories.data ?? []).map((c) => ({ value: c.slug, label: c.name }))} value={field.value} onChange={field.onChange} error={form.formState.errors.skills?.message} w={220} />
          )} />
          <TextInput label="Postal codes" {...form.register("zones")} error={form.formState.errors.zones?.message} />
          <Controller control={form.control} name="timezone" render={({ field }) => (
            <Select label="Time zone" searchable data={(zones.data ?? [{ name: "Asia/Kolkata", label: "Asia/Kolkata" }]).map((z) => ({ value: z.name, label: z.label }))} value={field.value} onChange={(v) => field.onChange(v ?? "")} error={form.formState.errors.timezone?.message} w={240} />
          )} />
          <Button type="submit" mt={24} loading={create.isPending}>Add</Button>
        </Group>
        <Text size="xs" c="dimmed" mt={4}>Working hours start as {summary(USUAL_WEEK)}; change them and add time off on the technician's page.</Text>
        {problems.length > 0 && <Alert color="red" mt="sm">{problems.join("; ")}</Alert>}
      </form>
    </Card>
  );
}

export function TechniciansPage() {
  const { user } = useAuth();
  const admin = isAdmin(user);
  const [filters, setFilter] = useUrlFilters(["q"] as const);
  const [q, setQ] = useState(filters.q ?? "");
  const [search] = useDebouncedValue(q, 300);
  useEffect(() => {
    if ((filters.q ?? "") !== search) setFilter("q", search);
  }, [search]); // eslint-disable-line react-hooks/exhaustive-deps
  const list = useQuery({
    queryKey: keys.technicians.page(filters.q, filters.page),
    queryFn: () => unwrap(api.GET("/api/v1/admin/technicians", { params: { query: { q: filters.q || undefined, ...pageWindow(filters.page, LIMIT) } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <PageHeader title="Technicians" />
      {admin && <AddTechnician />}
      <TextInput label="Search technicians" placeholder="Name, phone or email" value={q} onChange={(e) => setQ(e.currentTarget.value)} maw={360} />
      <Loaded query={list} what="technicians">
        {(data) =>
          data.items.length === 0 ? <Empty title={filters.q ? "Nobody matches" : "No technicians"} hint={filters.q ? "Try part of the name or the phone number." : admin ? "Add the people who do the visits above." : "An admin adds technicians."} /> : (
            <>
              <DataList
                caption="Technicians"
                testId="technicians-table"
                rowTestId="technician-row"
                rows={data.items}
                rowKey={(t) => t.id}
                columns={[
                  { label: "Name", primary: true, render: (t) => <Anchor component={Link} to={`/technicians/${t.id}`}>{t.name}</Anchor> },
                  { label: "Phone", render: (t) => <Anchor href={`tel:${t.phone}`}>{t.phone}</Anchor> },
                  { label: "Skills", render: (t) => <Group gap={4}>{t.skills.map((s) => <Badge key={s.id} size="sm" variant="light">{s.name}</Badge>)}</Group> },
                  { label: "Postal codes", render: (t) => t.zones.join(", ") },
                  { label: "Hours", render: (t) => `${summary(weekOf(t.working_hours))} (${t.timezone})` },
                  { label: "Active", render: (t) => (t.is_active ? "Takes visits" : "Inactive") + (t.time_off.length ? ` · ${t.time_off.length} time off coming` : "") },
                ]}
              />
              <Paged total={data.total} limit={LIMIT} page={filters.page} onChange={(p) => setFilter("page", p)} noun="technician" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
