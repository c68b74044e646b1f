// Service categories: add, rename, show or hide, reorder.
import { zodResolver } from "@hookform/resolvers/zod";
import { ActionIcon, Alert, Button, Card, Group, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { api, unwrap } from "../../api/client";
import type { Problem } from "../../api/session";
import { PageHeader } from "../../components/bits";
import { applyFieldErrors } from "../../components/fieldErrors";
import { Empty, ErrorState, Loading, Refused } from "../../components/States";

const schema = z.object({ name: z.string().trim().min(1, "Give it a name"), slug: z.string().trim().min(1, "Give it a slug") });
type Form = z.infer<typeof schema>;

export function CategoriesPage() {
  const queries = useQueryClient();
  const [problems, setProblems] = useState<string[]>([]);
  const list = useQuery({ queryKey: ["categories"], queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const refresh = () => queries.invalidateQueries({ queryKey: ["categories"] });
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: { name: "", slug: "" } });
  const create = useMutation({
    mutationFn: (body: Form) => unwrap(api.POST("/api/v1/admin/catalog/categories", { body })),
    onSuccess: () => {
      form.reset();
      setProblems([]);
      void refresh();
    },
    onError: (e: Problem) => setProblems(applyFieldErrors(e, form.setError, ["name", "slug"])),
  });
  const toggle = useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) =>
      unwrap(
        active
          ? api.POST("/api/v1/admin/catalog/categories/{category_id}/activate", { params: { path: { category_id: id } } })
          : api.POST("/api/v1/admin/catalog/categories/{category_id}/deactivate", { params: { path: { category_id: id } } }),
      ),
    onSuccess: refresh,
  });
  const reorder = useMutation({
    mutationFn: (ids: string[]) => unwrap(api.POST("/api/v1/admin/catalog/categories/reorder", { body: { ids } })),
    onSuccess: refresh,
  });

  return (
    <Stack>
      <PageHeader title="Categories" />
      <Card withBorder>
        <Title order={5} mb="xs">Add a category</Title>
        <form noValidate onSubmit={form.handleSubmit((v) => create.mutate(v))}>
          <Group align="start" wrap="wrap">
            <TextInput label="Name" {...form.register("name")} error={form.formState.errors.name?.message} />
            <TextInput label="Slug" description="e.g. pest-control" {...form.register("slug")} error={form.formState.errors.slug?.message} />
            <Button type="submit" mt={24} loading={create.isPending}>Add</Button>
          </Group>
          {problems.length > 0 && <Alert color="red" mt="sm">{problems.join("; ")}</Alert>}
        </form>
      </Card>
      <Refused error={toggle.error ?? reorder.error} />
      {list.isPending ? (
        <Loading what="categories" />
      ) : list.isError ? (
        <ErrorState what="categories" error={list.error} retry={() => list.refetch()} />
      ) : list.data.length === 0 ? (
        <Empty title="No categories yet" hint="Add the kinds of work you offer (plumbing, electrical, …); plans cover them." />
      ) : (
        <Table striped data-testid="categories-table">
          <Table.Thead>
            <Table.Tr><Table.Th>Order</Table.Th><Table.Th>Name</Table.Th><Table.Th>Slug</Table.Th><Table.Th>Shown</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data.map((c, i, all) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Group gap={2} wrap="nowrap">
                    {[-1, 1].map((by) => (
                      <ActionIcon key={by} size="sm" variant="subtle" aria-label={by < 0 ? "Move up" : "Move down"} disabled={i + by < 0 || i + by >= all.length}
                        onClick={() => {
                          const ids = all.map((x) => x.id);
                          ids.splice(i + by, 0, ids.splice(i, 1)[0]);
                          reorder.mutate(ids);
                        }}>
                        {by < 0 ? "↑" : "↓"}
                      </ActionIcon>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>{c.name}</Table.Td>
                <Table.Td><Text size="sm" c="dimmed">{c.slug}</Text></Table.Td>
                <Table.Td><Switch checked={c.is_active} onChange={(e) => toggle.mutate({ id: c.id, active: e.currentTarget.checked })} aria-label={`Show ${c.name}`} /></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
