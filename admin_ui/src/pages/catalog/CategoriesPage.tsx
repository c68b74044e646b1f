// Service categories in the catalog's order: the shown ones as customers see them, then the
// hidden ones (or either through the filter, kept in the URL). Add one (it goes last), move it up
// or down among those shown (or hidden) like it, hide it (says how many plans on sale cover it)
// or show it again.
import { zodResolver } from "@hookform/resolvers/zod";
import { Alert, Button, Card, Group, SegmentedControl, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { api, unwrap, type Schemas } from "../../api/client";
import type { Problem } from "../../api/session";
import { PageHeader } from "../../components/bits";
import { ConfirmButton } from "../../components/Confirm";
import { DataList, usePhone, type Column } from "../../components/DataList";
import { applyFieldErrors } from "../../components/fieldErrors";
import { count, Paged } from "../../components/Paged";
import { Empty, Refused } from "../../components/States";
import { Loaded } from "../../components/Loaded";
import { useUrlFilters } from "../../components/urlState";
import { keys } from "../../queryKeys";

type Category = Schemas["AdminCategoryOut"];
const schema = z.object({ name: z.string().trim().min(1, "Give it a name"), slug: z.string().trim().min(1, "Give it a slug") });
type Form = z.infer<typeof schema>;
const FILTERS = [
  { value: "all", label: "All" },
  { value: "shown", label: "Shown" },
  { value: "hidden", label: "Hidden" },
];

/** "2 active plans include this category; ..." */
function hideImpact(c: Category): string {
  const plans =
    c.active_plans === 0
      ? "No plan on sale includes this category"
      : `${count(c.active_plans, "active plan")} ${c.active_plans === 1 ? "includes" : "include"} this category; they keep covering it`;
  return `${plans}. It leaves the public list of categories.`;
}

export function CategoriesPage() {
  const queries = useQueryClient();
  const phone = usePhone();
  const [problems, setProblems] = useState<string[]>([]);
  const [filters, setFilter] = useUrlFilters(["shown"] as const);
  const shown = filters.shown === "shown" || filters.shown === "hidden" ? filters.shown : "all";
  const list = useQuery({
    queryKey: keys.categories.shown(shown),
    queryFn: () =>
      unwrap(api.GET("/api/v1/admin/catalog/categories", { params: { query: { shown: shown === "all" ? undefined : shown === "shown" } } })),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: keys.categories.all });
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
  const move = useMutation({
    mutationFn: ({ id, direction }: { id: string; direction: "up" | "down" }) =>
      unwrap(api.POST("/api/v1/admin/catalog/categories/{category_id}/move", { params: { path: { category_id: id } }, body: { direction } })),
    onSuccess: refresh,
  });

  const rows = list.data ?? [];
  // The whole list is here: a category first (or last) among those shown (hidden) like it has
  // nothing to pass.
  const canMove = (index: number, by: -1 | 1) => rows[index + by]?.is_active === rows[index].is_active;
  const columns: Column<Category>[] = [
    { label: "Category", primary: true, render: (c) => c.name },
    { label: "Slug", render: (c) => <Text size="sm" c="dimmed" component="span">{c.slug}</Text> },
    { label: "Plans on sale", render: (c) => (c.active_plans === 0 ? "None" : count(c.active_plans, "plan")) },
    { label: "In the catalog", render: (c) => (c.is_active ? "Shown" : "Hidden") },
  ];
  const actions = (c: Category) => {
    const index = rows.indexOf(c);
    const busy = toggle.isPending && toggle.variables?.id === c.id;
    return (
      <>
        <Button size="xs" variant="default" aria-label={`Move ${c.name} up`} disabled={!canMove(index, -1) || move.isPending} onClick={() => move.mutate({ id: c.id, direction: "up" })}>
          ↑ Up
        </Button>
        <Button size="xs" variant="default" aria-label={`Move ${c.name} down`} disabled={!canMove(index, 1) || move.isPending} onClick={() => move.mutate({ id: c.id, direction: "down" })}>
          ↓ Down
        </Button>
        {c.is_active ? (
          <ConfirmButton
            size="xs"
            variant="default"
            aria-label={`Hide ${c.name}`}
            title={`Hide ${c.name}?`}
            impact={hideImpact(c)}
            confirmLabel="Hide"
            onConfirm={() => toggle.mutate({ id: c.id, active: false })}
            loading={busy}
          >
            Hide
          </ConfirmButton>
        ) : (
          <Button size="xs" aria-label={`Show ${c.name}`} onClick={() => toggle.mutate({ id: c.id, active: true })} loading={busy}>
            Show
          </Button>
        )}
      </>
    );
  };

  return (
    <Stack>
      <PageHeader title="Categories" />
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">Add a category</Title>
        <form noValidate onSubmit={form.handleSubmit((v) => create.mutate(v))}>
          <Group align="start" wrap="wrap">
            <TextInput label="Name" {...form.register("name")} error={form.formState.errors.name?.message} />
            <TextInput label="Slug" description="e.g. pest-control" {...form.register("slug")} error={form.formState.errors.slug?.message} />
            <Button type="submit" mt={24} loading={create.isPending}>Add</Button>
          </Group>
          <Text size="xs" c="dimmed" mt="xs">A new category goes last; move it where customers should see it.</Text>
          {problems.length > 0 && <Alert color="red" mt="sm">{problems.join("; ")}</Alert>}
        </form>
      </Card>
      <SegmentedControl
        aria-label="Show categories"
        fullWidth={phone}
        w={phone ? undefined : "fit-content"}
        value={shown}
        onChange={(v) => setFilter("shown", v === "all" ? null : v)}
        data={FILTERS}
      />
      <Refused error={toggle.error ?? move.error} />
      <Loaded query={list} what="categories">
        {() =>
          rows.length === 0 ? (
            shown === "all" ? (
              <Empty title="No categories yet" hint="Add the kinds of work you offer (plumbing, electrical, …); plans cover them." />
            ) : (
              <Empty title={`No ${shown} categories`} hint="Choose All to see every category." />
            )
          ) : (
            <>
              <DataList rows={rows} columns={columns} rowKey={(c) => c.id} actions={actions} testId="categories-table" rowTestId="category-row" caption="Categories, in the catalog's order" />
              <Paged total={rows.length} noun="category" plural="categories" />
            </>
          )
        }
      </Loaded>
    </Stack>
  );
}
