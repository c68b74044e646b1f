// Technicians: who does what where. Support reads; admins add and change them.
import { zodResolver } from "@hookform/resolvers/zod";
import { Alert, Badge, Button, Card, Group, MultiSelect, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { z } from "zod";
import { api, unwrap } from "../api/client";
import type { Problem } from "../api/session";
import { isAdmin, useAuth } from "../auth/AuthProvider";
import { PageHeader } from "../components/bits";
import { applyFieldErrors } from "../components/fieldErrors";
import { Empty, ErrorState, Loading, Refused } from "../components/States";

const WEEK = { mon: [["09:00", "18:00"]], tue: [["09:00", "18:00"]], wed: [["09:00", "18:00"]], thu: [["09:00", "18:00"]], fri: [["09:00", "18:00"]], sat: [["10:00", "14:00"]], sun: [] };

const schema = z.object({
  name: z.string().trim().min(1, "Enter the name"),
  phone: z.string().trim().min(6, "Enter the phone number, e.g. +919812340001"),
  skills: z.array(z.string()).min(1, "Choose at least one skill"),
  zones: z.string().trim().min(3, "Enter the postal codes served, separated by commas"),
  timezone: z.string().trim().min(1),
});
type Form = z.infer<typeof schema>;

function AddTechnician({ done }: { done: () => void }) {
  const [problems, setProblems] = useState<string[]>([]);
  const categories = useQuery({ queryKey: ["categories"], queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: { name: "", phone: "", skills: [], zones: "", timezone: "Asia/Kolkata" } });
  const create = useMutation({
    mutationFn: (f: Form) =>
      unwrap(api.POST("/api/v1/admin/technicians", {
        body: { name: f.name, phone: f.phone, skills: f.skills, zones: f.zones.split(/[,\s]+/).filter(Boolean), timezone: f.timezone, working_hours: WEEK as never, is_active: true },
      })),
    onSuccess: () => { form.reset(); setProblems([]); done(); },
    onError: (e: Problem) => setProblems(applyFieldErrors(e, form.setError, ["name", "phone", "skills", "zones", "timezone"], (f) => f.replace(/^(skills|zones)\.\d+$/, "$1"))),
  });
  return (
    <Card withBorder>
      <Title order={5} mb="xs">Add a technician</Title>
      <form noValidate onSubmit={form.handleSubmit((v) => create.mutate(v))}>
        <Group align="start" wrap="wrap">
          <TextInput label="Name" {...form.register("name")} error={form.formState.errors.name?.message} />
          <TextInput label="Phone" {...form.register("phone")} error={form.formState.errors.phone?.message} />
          <Controller control={form.control} name="skills" render={({ field }) => (
            <MultiSelect label="Skills" data={(categories.data ?? []).map((c) => ({ value: c.slug, label: c.name }))} value={field.value} onChange={field.onChange} error={form.formState.errors.skills?.message} w={220} />
          )} />
          <TextInput label="Postal codes" {...form.register("zones")} error={form.formState.errors.zones?.message} />
          <TextInput label="Time zone" {...form.register("timezone")} error={form.formState.errors.timezone?.message} w={140} />
          <Button type="submit" mt={24} loading={create.isPending}>Add</Button>
        </Group>
        <Text size="xs" c="dimmed" mt={4}>Working hours start as Mon–Fri 09:00–18:00, Sat 10:00–14:00.</Text>
        {problems.length > 0 && <Alert color="red" mt="sm">{problems.join("; ")}</Alert>}
      </form>
    </Card>
  );
}

export function TechniciansPage() {
  const { user } = useAuth();
  const queries = useQueryClient();
  const [q, setQ] = useState("");
  const list = useQuery({
    queryKey: ["technicians", q],
    queryFn: () => unwrap(api.GET("/api/v1/admin/technicians", { params: { query: { q: q || undefined, limit: 100 } } })),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ["technicians"] });
  const toggle = useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) =>
      unwrap(api.PATCH("/api/v1/admin/technicians/{technician_id}", { params: { path: { technician_id: id } }, body: { is_active: active } })),
    onSuccess: refresh,
  });
  const admin = isAdmin(user);
  return (
    <Stack>
      <PageHeader title="Technicians" />
      {admin && <AddTechnician done={refresh} />}
      <TextInput placeholder="Search name, phone or email" value={q} onChange={(e) => setQ(e.currentTarget.value)} maw={360} />
      <Refused error={toggle.error} />
      {list.isPending ? <Loading what="technicians" /> : list.isError ? <ErrorState what="technicians" error={list.error} retry={() => list.refetch()} /> :
        list.data.items.length === 0 ? <Empty title="No technicians" hint={admin ? "Add the people who do the visits above." : "An admin adds technicians."} /> : (
          <Table.ScrollContainer minWidth={700}>
            <Table striped data-testid="technicians-table">
              <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Phone</Table.Th><Table.Th>Skills</Table.Th><Table.Th>Zones</Table.Th><Table.Th>Active</Table.Th></Table.Tr></Table.Thead>
              <Table.Tbody>
                {list.data.items.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>{t.name}</Table.Td>
                    <Table.Td><a href={`tel:${t.phone}`}>{t.phone}</a></Table.Td>
                    <Table.Td><Group gap={4}>{t.skills.map((s) => <Badge key={s.id} size="sm" variant="light">{s.name}</Badge>)}</Group></Table.Td>
                    <Table.Td>{t.zones.join(", ")}</Table.Td>
                    <Table.Td><Switch checked={t.is_active} disabled={!admin} onChange={(e) => toggle.mutate({ id: t.id, active: e.currentTarget.checked })} aria-label={`${t.name} active`} /></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
    </Stack>
  );
}
