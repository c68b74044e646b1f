// Create a plan, or edit one: a draft's terms change in place; once published, an edit makes the
// next version (the API keeps every published one: the versions panel lists them all). A number out
// of range is refused at its field, never corrected; a price of 0 is saved only after the admin
// confirms it is meant to be free. Errors the API finds are shown at their field, and an included
// visits line's at that line.
import { zodResolver } from "@hookform/resolvers/zod";
import {
  ActionIcon, Alert, Button, Card, Checkbox, Grid, Group, Modal, MultiSelect, NumberInput, Select, Stack, Text, TextInput, Textarea, Title,
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
import { count } from "../../components/Paged";
import { unready } from "../../components/Loaded";
import { ErrorState } from "../../components/States";
import { keys } from "../../queryKeys";

// The API's bounds (domain/catalog/schemas.py), said at the field before anything is sent.
const MAX_VALIDITY_DAYS = 3650;
const MAX_VISITS = 1000;
const whole = (what: string) => z.number({ error: `Enter ${what}` }).int(`${what[0].toUpperCase()}${what.slice(1)} must be a whole number`);

const inclusion = z.object({
  category: z.string().min(1, "Choose a category"),
  visits: whole("the visits").min(0, "Visits can't be negative").max(MAX_VISITS, `At most ${MAX_VISITS} visits`),
  labour_covered: z.boolean(),
  parts_covered: z.boolean(),
  parts_cap_major: z.number().min(0, "The parts cap can't be negative").nullable(),
  details: z.string(),
});

const schema = z.object({
  name: z.string().trim().min(1, "Give the plan a name"),
  // The API checks the slug's form (lower case, digits, dashes) and says so at the field.
  slug: z.string().trim().min(1, "Give the plan a slug (its name in links)"),
  description: z.string(),
  badge: z.string(),
  categories: z.array(z.string()).min(1, "Choose at least one category"),
  price_major: z.number({ error: "Enter the price" }).min(0, "The price can't be negative"),
  currency: z.string().length(3, "A 3-letter ISO code, e.g. INR"),
  tax_pct: z.number({ error: "Enter the tax rate" }).min(0, "The tax rate can't be negative").max(100, "At most 100 %"),
  includes_tax: z.boolean(),
  validity_days: whole("the days").min(1, "At least 1 day").max(MAX_VALIDITY_DAYS, `At most ${MAX_VALIDITY_DAYS} days (10 years)`),
  visit_cap: whole("the visits").min(1, "At least 1 visit").max(MAX_VISITS, `At most ${MAX_VISITS} visits`),
  inclusions: z.array(inclusion),
});
type Form = z.infer<typeof schema>;

const FIELDS = [
  "name", "slug", "description", "badge", "categories", "price_major", "currency", "tax_pct", "includes_tax",
  "validity_days", "visit_cap", "inclusions.*.category", "inclusions.*.visits", "inclusions.*.parts_cap_major", "inclusions.*.details",
] as const;
const LINE = "Included visits, line";
const PART: Record<string, string> = { category: "category", visits: "visits", parts_cap_minor: "parts cap", details: "details", labour_covered: "labour", parts_covered: "parts" };

/** Where an error is, in words: "Included visits, line 2, visits" for `inclusions.1.visits`. */
function where(field: string): string {
  const line = /^inclusions\.(\d+)(?:\.(\w+))?$/.exec(field);
  if (line) return `${LINE} ${Number(line[1]) + 1}${line[2] ? `, ${PART[line[2]] ?? line[2]}` : ""}`;
  if (field === "inclusions") return "Included visits";
  return field.replace(/^price\./, "price ").replace(/_/g, " ");
}

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

function toBody(f: Form, confirmFree: boolean): Schemas["PlanCreate"] {
  const scale = f.currency.toUpperCase() === "JPY" ? 1 : 100;
  return {
    confirm_free: confirmFree,
    name: f.name, slug: f.slug, description: f.description, badge: f.badge.trim() || null, categories: f.categories,
    price: { amount_minor: Math.round(f.price_major * scale), currency: f.currency.toUpperCase(), tax_rate_bps: Math.round(f.tax_pct * 100), includes_tax: f.includes_tax },
    validity_days: f.validity_days, visit_cap: f.visit_cap,
    inclusions: f.inclusions.map((i) => ({
      category: i.category, visits: i.visits, labour_covered: i.labour_covered, parts_covered: i.parts_covered,
      parts_cap_minor: i.parts_covered && i.parts_cap_major !== null ? Math.round(i.parts_cap_major * scale) : null, details: i.details,
    })),
  };
}

// What was typed, as typed: no clamping to a minimum or maximum (the schema says what is out of
// range, at the field) and no silent correction of a negative number.
function num(field: { value: number | null; onChange: (v: number | null) => void }) {
  return {
    value: field.value ?? "",
    onChange: (v: string | number) => field.onChange(v === "" || v === "-" ? null : Number(v)),
    clampBehavior: "none" as const,
  };
}

export function PlanEditPage() {
  const { id } = useParams();
  const creating = !id;
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [formProblems, setFormProblems] = useState<string[]>([]);
  const [lineProblems, setLineProblems] = useState<Record<string, string[]>>({});
  const [askFree, setAskFree] = useState<Form | null>(null);
  const plan = useQuery({
    queryKey: keys.plans.one(id),
    enabled: !creating,
    queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans/{plan_id}", { params: { path: { plan_id: id! } } })),
  });
  const versions = useQuery({
    queryKey: keys.plans.versions(id),
    enabled: !creating,
    queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/plans/{plan_id}/versions", { params: { path: { plan_id: id! } } })),
  });
  const categories = useQuery({ queryKey: keys.categories.all, queryFn: () => unwrap(api.GET("/api/v1/admin/catalog/categories")) });
  const form = useForm<Form>({ resolver: zodResolver(schema), defaultValues: EMPTY });
  const inclusions = useFieldArray({ control: form.control, name: "inclusions" });
  useEffect(() => {
    if (plan.data) form.reset(toForm(plan.data));
  }, [plan.data, form]);

  const save = useMutation({
    mutationFn: ({ values, confirmFree }: { values: Form; confirmFree: boolean }) => {
      const body = toBody(values, confirmFree);
      return creating
        ? unwrap(api.POST("/api/v1/admin/catalog/plans", { body }))
        : unwrap(api.PATCH("/api/v1/admin/catalog/plans/{plan_id}", { params: { path: { plan_id: id! } }, body }));
    },
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: keys.plans.all });
      const v = saved.current_version;
      notifications.show({
        color: "green",
        message: creating ? `Plan “${v.name}” created as a draft` : v.published_at ? `Saved as version ${v.number}` : `Saved (version ${v.number} is still a draft)`,
      });
      navigate(`/plans/${saved.id}`, { replace: true });
    },
    onError: (error: Problem) => {
      // An included visits line's own problem (not one of its fields), or the list's, is said at
      // that line (or above the lines); the rest go to their fields, or the alert above the form.
      const lines: Record<string, string[]> = {};
      const fields = (error.errors ?? []).filter((e) => {
        const line = /^inclusions(?:\.(\d+))?$/.exec(e.field);
        if (!line) return true;
        (lines[line[1] ?? "list"] ??= []).push(`${where(e.field)}: ${e.message}`);
        return false;
      });
      setLineProblems(lines);
      const rest = fields.length || !error.errors?.length ? applyFieldErrors({ ...error, errors: fields }, form.setError, FIELDS, rename) : [];
      // Said in words: "Included visits, line 2, visits: must be 0 or more", never a dotted path.
      setFormProblems(rest.map((r) => { const [field, ...message] = r.split(": "); return message.length && /^[\w.]+$/.test(field) ? `${where(field)}: ${message.join(": ")}` : r; }));
    },
  });
  const submit = (values: Form, confirmFree: boolean) => {
    setFormProblems([]);
    setLineProblems({});
    save.mutate({ values, confirmFree });
  };

  const waiting = creating ? null : unready(plan, "the plan");
  if (waiting) return waiting;
  const options = (categories.data ?? []).map((c) => ({ value: c.slug, label: c.name }));
  const chosen = form.watch("categories");
  const errors = form.formState.errors;
  const savedFree = plan.data?.current_version.price.amount_minor === 0;

  return (
    <Stack>
      <PageHeader title={creating ? "New plan" : `Plan: ${plan.data?.current_version.name}`}>
        {plan.data && <StatusBadge status={plan.data.status} />}
        {plan.data && (plan.data.current_version.published_at ? (
          <Text size="sm" c="dimmed" data-testid="edit-rule">Published: an edit makes version {plan.data.current_version.number + 1}</Text>
        ) : (
          <Text size="sm" c="dimmed" data-testid="edit-rule">Draft: an edit changes it in place</Text>
        ))}
      </PageHeader>
      <Modal opened={askFree !== null} onClose={() => setAskFree(null)} title={`Publish at ${money(0, askFree?.currency.toUpperCase() || "INR", 0)}? Customers get it free`}>
        <Stack>
          <Text data-testid="confirm-impact">
            A price of {money(0, askFree?.currency.toUpperCase() || "INR", 0)} gives this plan away: whoever buys it pays nothing
            {plan.data?.status === "active" ? ", from the moment you save." : ", once it is published."}
          </Text>
          <Group justify="end">
            <Button variant="default" onClick={() => setAskFree(null)}>Keep editing the price</Button>
            <Button
              color="red"
              onClick={() => {
                const values = askFree;
                setAskFree(null);
                if (values) submit(values, true);
              }}
            >
              Yes, make it free
            </Button>
          </Group>
        </Stack>
      </Modal>
      <form
        noValidate
        onSubmit={form.handleSubmit((values) => {
          // Free is deliberate: asked before it is sent (a plan already free was asked before).
          if (values.price_major === 0 && !savedFree) setAskFree(values);
          else submit(values, values.price_major === 0);
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
                    <NumberInput label="Price" withAsterisk decimalScale={2} {...num(field)} error={errors.price_major?.message} />
                  )} />
                  <TextInput label="Currency" {...form.register("currency")} error={errors.currency?.message} />
                  <Controller control={form.control} name="tax_pct" render={({ field }) => (
                    <NumberInput label="Tax %" decimalScale={2} {...num(field)} error={errors.tax_pct?.message} />
                  )} />
                </Group>
                <Checkbox label="The price includes the tax" {...form.register("includes_tax")} />
                <Group grow align="start">
                  <Controller control={form.control} name="validity_days" render={({ field }) => (
                    <NumberInput label="Valid for (days)" withAsterisk allowDecimal={false} {...num(field)} error={errors.validity_days?.message} />
                  )} />
                  <Controller control={form.control} name="visit_cap" render={({ field }) => (
                    <NumberInput label="Visits in total" withAsterisk allowDecimal={false} {...num(field)} error={errors.visit_cap?.message} />
                  )} />
                </Group>
                <Title order={2} size="h4">Included visits, by category</Title>
                {inclusions.fields.length === 0 && <Text size="sm" c="dimmed">No per-category terms: every covered category shares the total visits.</Text>}
                {(lineProblems.list ?? []).map((p) => <Text key={p} size="sm" c="red.9" role="alert">{p}</Text>)}
                {inclusions.fields.map((item, index) => {
                  const e = errors.inclusions?.[index];
                  const own = [
                    ...(lineProblems[String(index)] ?? []),
                    ...(e?.root?.message ? [`${LINE} ${index + 1}: ${e.root.message}`] : []),
                  ];
                  return (
                    <Card key={item.id} withBorder padding="sm" data-testid="inclusion" component="fieldset" aria-label={`${LINE} ${index + 1}`} m={0}>
                      <Text size="sm" fw={600} mb={4}>{LINE} {index + 1}</Text>
                      {own.map((p) => <Text key={p} size="sm" c="red.9" role="alert" data-testid="line-problem">{p}</Text>)}
                      <Group align="start" wrap="wrap">
                        <Controller control={form.control} name={`inclusions.${index}.category`} render={({ field }) => (
                          <Select label="Category" data={options.filter((o) => chosen.includes(o.value))} value={field.value || null} onChange={(v) => field.onChange(v ?? "")} error={e?.category?.message ? `${LINE} ${index + 1}: ${e.category.message}` : undefined} w={{ base: "100%", xs: 180 }} />
                        )} />
                        <Controller control={form.control} name={`inclusions.${index}.visits`} render={({ field }) => (
                          <NumberInput label="Visits" allowDecimal={false} {...num(field)} error={e?.visits?.message ? `${LINE} ${index + 1}: ${e.visits.message}` : undefined} w={{ base: "100%", xs: 140 }} />
                        )} />
                        <Controller control={form.control} name={`inclusions.${index}.parts_cap_major`} render={({ field }) => (
                          <NumberInput label="Parts cap" placeholder="no limit" {...num(field)} error={e?.parts_cap_major?.message ? `${LINE} ${index + 1}: ${e.parts_cap_major.message}` : undefined} w={{ base: "100%", xs: 140 }} />
                        )} />
                        <Stack gap={4} pt={24}>
                          <Checkbox size="xs" label="Labour" {...form.register(`inclusions.${index}.labour_covered`)} />
                          <Checkbox size="xs" label="Parts" {...form.register(`inclusions.${index}.parts_covered`)} />
                        </Stack>
                        <TextInput label="Details" {...form.register(`inclusions.${index}.details`)} error={e?.details?.message} style={{ flex: 1 }} miw={{ base: "100%", xs: 180 }} />
                        <ActionIcon mt={24} variant="subtle" color="red" aria-label={`Remove line ${index + 1}`} onClick={() => inclusions.remove(index)}>✕</ActionIcon>
                      </Group>
                    </Card>
                  );
                })}
                <Group>
                  <Button variant="default" size="xs" onClick={() => inclusions.append({ category: chosen[0] ?? "", visits: 1, labour_covered: true, parts_covered: false, parts_cap_major: null, details: "" })}>
                    Add a line
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
                <Title order={2} size="h4" mb="xs">Versions</Title>
                <Text size="xs" c="dimmed" mb="xs">A draft is edited in place; once published, an edit makes the next version and customers keep the terms they bought.</Text>
                {versions.isError && <ErrorState what="the versions" error={versions.error} retry={() => versions.refetch()} />}
                <Stack gap="xs" component="ol" p={0} m={0} style={{ listStyle: "none" }} aria-label="Versions, newest first" data-testid="versions">
                  {versions.data?.map((v) => (
                    <Stack key={v.id} gap={0} component="li" data-testid="version">
                      <Group gap="xs">
                        <Text size="sm" fw={600}>
                          Version {v.number}
                          {v.id === plan.data?.current_version.id ? " (current)" : ""}
                          {!v.published_at && !v.sold_at ? ", a draft" : ""}
                        </Text>
                      </Group>
                      <Text size="sm">{v.name} · {money(v.price.total_minor, v.price.currency)} · {count(v.visit_cap, "visit")} in {count(v.validity_days, "day")}</Text>
                      <Text size="xs" c="dimmed">
                        {v.published_at ? `Published ${when(v.published_at)}` : "Not published yet"}
                        {v.sold_at ? ` · sold since ${when(v.sold_at)}` : " · not sold"}
                      </Text>
                    </Stack>
                  ))}
                </Stack>
              </Card>
            </Grid.Col>
          )}
        </Grid>
      </form>
    </Stack>
  );
}
