// Create a plan, or edit one: changed terms of a sold plan make a new version (the API keeps the
// one customers bought). Errors the API finds are shown at their field.
import { zodResolver } from "@hookform/resolvers/zod";
import {
  ActionIcon, Alert, Badge, Button, Card, Checkbox, Grid, Group, MultiSelect, NumberInput, Select, Stack, Text, TextInput, Textarea, Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Controller, useFieldArray, useForm } from "react-hook-form";
import { useNavigate, useParams } from "react-router";
import { z } from "zod";
import { api, unwrap, type Schemas } from "../../api/client";
import type { Problem } from "../../api/session";
import { PageHeader, StatusBadge } from "../../components/bits";
import { applyFieldErrors } from "../../components/fieldErrors";
import { money, when } from "../../components/format";
import { ErrorState, Loading } from "../../components/States";

const inclusion = z.object({
  category: z.string().min(1, "Choose a category"),
  visits: z.number({ error: "Enter a number" }).int().min(0),
  labour_covered: z.boolean(),
  parts_covered: z.boolean(),
  parts_cap_major: z.number().min(0).nullable(),
  details: z.string(),
});

const schema = z.object({
  name: z.string().trim().min(1, "Give the plan a name"),
  // The API checks the slug's form (lower case, digits, dashes) and says so at the field.
  slug: z.string().trim().min(1, "Give the plan a slug (its name in links)"),
  description: z.string(),
  badge: z.string(),
  categories: z.array(z.string()).min(1, "Choose at least one category"),
  price_major: z.number({ error: "Enter the price" }).min(0),
  currency: z.string().length(3, "A 3-letter ISO code, e.g. INR"),
  tax_pct: z.number({ error: "Enter the tax rate" }).min(0).max(100),
  includes_tax: z.boolean(),
  validity_days: z.number({ error: "Enter the days" }).int().min(1),
  visit_cap: z.number({ error: "Enter the visits" }).int().min(1),
  inclusions: z.array(inclusion),
});
type Form = z.infer<typeof schema>;

const FIELDS = [
  "name", "slug", "description", "badge", "categories", "price_major", "currency", "tax_pct", "includes_tax",
  "validity_days", "visit_cap", "inclusions.*.category", "inclusions.*.visits", "inclusions.*.parts_cap_major", "inclusions.*.details",
] as const;

function rename(field: string): string {
  return field
    .replace(/^price\.amount_minor$/, "price_major")
    .replace(/^price\.currency$/, "currency")
    .replace(/^price\.tax_rate_bps$/, "tax_pct")
    .replace(/^price\.includes_tax$/, "includes_tax")
    .replace(/^categories\.\d+$/, "categories")
    .replace(/parts_cap_minor$/, "parts_cap_major");
}

const EMPTY: Form = {
  name: "", slug: "", description: "", badge: "", categories: [], price_major: 0, currency: "INR", tax_pct: 18,
  includes_tax: true, validity_days: 365, visit_cap: 4, inclusions: [],
};

function toForm(plan: Schemas["AdminPlanOut"]): Form {
  const v = plan.current_version;
  const scale = 10 ** v.price.minor_units;
  return {
    name: v.name, slug: plan.slug, description: v.description, badge: plan.badge ?? "",
    categories: v.categories.map((c) => c.slug), price_major: v.price.amount_minor / scale, currency: v.price.currency,
    tax_pct: v.price.tax_rate_bps / 100, includes_tax: v.price.includes_tax, validity_days: v.validity_days, visit_cap: v.visit_cap,
    inclusions: v.inclusions.map((i) => ({
      category: i.category, visits: i.visits, labour_covered: i.labour_covered, parts_covered: i.parts_covered,
      parts_cap_major: i.parts_cap_minor === null ? null : i.parts_cap_minor / scale, details: i.details,
    })),
  };
}

function toBody(f: Form): Schemas["PlanCreate"] {
  const scale = f.currency.toUpperCase() === "JPY" ? 1 : 100;
  return {
    name: f.name, slug: f.slug, description: f.description, badge: f.badge.trim() || null, categories: f.categories,
    price: { amount_minor: Math.round(f.price_major * scale), currency: f.currency.toUpperCase(), tax_rate_bps: Math.round(f.tax_pct * 100), includes_tax: f.includes_tax },
    validity_days: f.validity_days, visit_cap: f.visit_cap,
    inclusions: f.inclusions.map((i) => ({
      category: i.category, visits: i.visits, labour_covered: i.labour_covered, parts_covered: i.parts_covered,
      parts_cap_minor: i.parts_covered && i.parts_cap_major !== null ? Math.round(i.parts_cap_major * scale) : null, details: i.details,
    })),
  };
}

function num(field: { value: number | null; onChange: (v: number | null) => void }) {
  return {
    value: field.value ?? "",
    onChange: (v: string | number) => field.onChange(v === "" ? null : Number(v)),
  };
}

export function PlanEditPage() {
  const { id } = useParams();
  const creating = !id;
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [formProblems, setFormProblems] = useState<string[]>([]);
  const plan = useQuery({
    queryKey: ["plans", id],
    enabled: !creating,
    queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans/{plan_id}", { params: { path: { plan_id: id! } } })),
  });
  const versions = useQuery({
    queryKey: ["plans", id, "versions"],
    enabled: !creating,
    queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans/{plan_id}/versions", { params: { path: { plan_id: id! } } })),
  });
  const categories = useQuery({ queryKey: ["categories"], queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: EMPTY });
  const inclusions = useFieldArray({ control: form.control, name: "inclusions" });
  useEffect(() => {
    if (plan.data) form.reset(toForm(plan.data));
  }, [plan.data, form]);

  const save = useMutation({
    mutationFn: (values: Form) => {
      const body = toBody(values);
      return creating
        ? unwrap(api.POST("/api/v1/admin/catalog/plans", { body }))
        : unwrap(api.PATCH("/api/v1/admin/catalog/plans/{plan_id}", { params: { path: { plan_id: id! } }, body }));
    },
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: ["plans"] });
      notifications.show({ color: "green", message: creating ? `Plan “${saved.current_version.name}” created as a draft` : `Saved (version ${saved.current_version.number})` });
      navigate(`/plans/${saved.id}`, { replace: true });
    },
    onError: (error: Problem) => setFormProblems(applyFieldErrors(error, form.setError, FIELDS, rename)),
  });

  if (!creating && plan.isPending) return <Loading what="the plan" />;
  if (!creating && plan.isError) return <ErrorState what="the plan" error={plan.error} retry={() => plan.refetch()} />;
  const options = (categories.data ?? []).map((c) => ({ value: c.slug, label: c.name }));
  const chosen = form.watch("categories");
  const errors = form.formState.errors;

  return (
    <Stack>
      <PageHeader title={creating ? "New plan" : `Plan: ${plan.data?.current_version.name}`}>
        {plan.data && <StatusBadge status={plan.data.status} />}
        {plan.data?.sold && <Badge color="grape" variant="light">Sold: edits make a new version</Badge>}
      </PageHeader>
      <form
        noValidate
        onSubmit={form.handleSubmit((values) => {
          setFormProblems([]);
          save.mutate(values);
        })}
      >
        <Grid>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <Card withBorder>
              <Stack>
                {formProblems.length > 0 && (
                  <Alert color="red" title="The plan was not saved" data-testid="form-problems">
                    {formProblems.map((p) => <Text key={p} size="sm">{p}</Text>)}
                  </Alert>
                )}
                <Group grow align="start">
                  <TextInput label="Name" withAsterisk {...form.register("name")} error={errors.name?.message} />
                  <TextInput label="Slug" withAsterisk description="lower-case words joined by dashes" {...form.register("slug")} error={errors.slug?.message} />
                </Group>
                <Textarea label="Description" autosize minRows={2} {...form.register("description")} error={errors.description?.message} />
                <Group grow align="start">
                  <Controller control={form.control} name="categories" render={({ field }) => (
                    <MultiSelect label="Categories" withAsterisk data={options} value={field.value} onChange={field.onChange} error={errors.categories?.message} placeholder={categories.isPending ? "Loading…" : "Choose"} />
                  )} />
                  <TextInput label="Badge" placeholder="e.g. Most popular" {...form.register("badge")} error={errors.badge?.message} />
                </Group>
                <Group grow align="start">
                  <Controller control={form.control} name="price_major" render={({ field }) => (
                    <NumberInput label="Price" withAsterisk decimalScale={2} min={0} {...num(field)} error={errors.price_major?.message} />
                  )} />
                  <TextInput label="Currency" {...form.register("currency")} error={errors.currency?.message} />
                  <Controller control={form.control} name="tax_pct" render={({ field }) => (
                    <NumberInput label="Tax %" decimalScale={2} min={0} max={100} {...num(field)} error={errors.tax_pct?.message} />
                  )} />
                </Group>
                <Checkbox label="The price includes the tax" {...form.register("includes_tax")} />
                <Group grow align="start">
                  <Controller control={form.control} name="validity_days" render={({ field }) => (
                    <NumberInput label="Valid for (days)" withAsterisk min={1} {...num(field)} error={errors.validity_days?.message} />
                  )} />
                  <Controller control={form.control} name="visit_cap" render={({ field }) => (
                    <NumberInput label="Visits in total" withAsterisk min={1} {...num(field)} error={errors.visit_cap?.message} />
                  )} />
                </Group>
                <Title order={5}>What each category includes</Title>
                {inclusions.fields.length === 0 && <Text size="sm" c="dimmed">No per-category terms: every covered category shares the total visits.</Text>}
                {inclusions.fields.map((item, index) => {
                  const e = errors.inclusions?.[index];
                  return (
                    <Card key={item.id} withBorder padding="sm" data-testid="inclusion">
                      <Group align="start" wrap="wrap">
                        <Controller control={form.control} name={`inclusions.${index}.category`} render={({ field }) => (
                          <Select label="Category" data={options.filter((o) => chosen.includes(o.value))} value={field.value || null} onChange={(v) => field.onChange(v ?? "")} error={e?.category?.message} w={180} />
                        )} />
                        <Controller control={form.control} name={`inclusions.${index}.visits`} render={({ field }) => (
                          <NumberInput label="Visits" min={0} {...num(field)} error={e?.visits?.message} w={110} />
                        )} />
                        <Controller control={form.control} name={`inclusions.${index}.parts_cap_major`} render={({ field }) => (
                          <NumberInput label="Parts cap" placeholder="no limit" min={0} {...num(field)} error={e?.parts_cap_major?.message} w={130} />
                        )} />
                        <Stack gap={4} pt={24}>
                          <Checkbox size="xs" label="Labour" {...form.register(`inclusions.${index}.labour_covered`)} />
                          <Checkbox size="xs" label="Parts" {...form.register(`inclusions.${index}.parts_covered`)} />
                        </Stack>
                        <TextInput label="Details" {...form.register(`inclusions.${index}.details`)} style={{ flex: 1 }} miw={180} />
                        <ActionIcon mt={24} variant="subtle" color="red" aria-label="Remove" onClick={() => inclusions.remove(index)}>✕</ActionIcon>
                      </Group>
                    </Card>
                  );
                })}
                <Group>
                  <Button variant="light" size="xs" onClick={() => inclusions.append({ category: chosen[0] ?? "", visits: 1, labour_covered: true, parts_covered: false, parts_cap_major: null, details: "" })}>
                    Add category terms
                  </Button>
                </Group>
                <Group justify="end">
                  <Button variant="default" onClick={() => navigate("/plans")}>Back to plans</Button>
                  <Button type="submit" loading={save.isPending}>{creating ? "Create plan" : "Save"}</Button>
                </Group>
              </Stack>
            </Card>
          </Grid.Col>
          {!creating && (
            <Grid.Col span={{ base: 12, md: 4 }}>
              <Card withBorder>
                <Title order={5} mb="xs">Versions</Title>
                {versions.data?.map((v) => (
                  <Text key={v.id} size="sm">
                    v{v.number} · {money(v.price.total_minor, v.price.currency)} · {v.sold_at ? `sold since ${when(v.sold_at)}` : "not sold"}
                  </Text>
                ))}
              </Card>
            </Grid.Col>
          )}
        </Grid>
      </form>
    </Stack>
  );
}
