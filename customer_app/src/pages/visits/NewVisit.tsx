// Asking for a visit: which plan and what for, where, when (a free slot), what needs doing,
// and photos taken with the phone's camera.
import { dateIn } from "@homeplans/web-common/time";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, idempotencyKey, session, unwrap } from "../../api";
import { useAuth, useZone } from "../../auth";
import { t } from "../../strings";
import { Alert, Empty, Pending, Screen, Select, errorOf } from "../../ui";
import { WindowPicker, type Chosen } from "./WindowPicker";

export async function uploadPhoto(requestId: string, file: File): Promise<void> {
  const form = new FormData();
  form.append("file", file);
  const response = await session.authedFetch(
    new Request(`/api/v1/service-requests/${requestId}/photos`, { method: "POST", body: form }),
  );
  if (!response.ok) throw await response.json();
}

export default function NewVisit() {
  const { user } = useAuth();
  const zone = useZone();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [params] = useSearchParams();
  const plans = useQuery({
    queryKey: ["subscriptions", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/subscriptions", { params: { query: { limit: 50 } } })),
  });
  const usable = (plans.data?.items ?? []).filter((p) => ["active", "past_due", "grace"].includes(p.status) && p.visits.left > 0);
  const [planId, setPlanId] = useState(params.get("plan") ?? "");
  const plan = usable.find((p) => p.id === planId) ?? usable[0];
  const categories = plan?.visits.by_category.filter((c) => c.left > 0) ?? [];
  const [categoryId, setCategoryId] = useState("");
  const category = categories.find((c) => c.category_id === categoryId) ?? categories[0];
  const [day, setDay] = useState(() => dateIn(new Date(Date.now() + 86_400_000), zone));
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [description, setDescription] = useState("");
  const [photos, setPhotos] = useState<File[]>([]);
  const key = useMemo(idempotencyKey, []);
  const ask = useMutation({
    mutationFn: async () => {
      const request = await unwrap(
        api.POST("/api/v1/service-requests", {
          params: { header: { "Idempotency-Key": key } },
          body: {
            subscription_id: plan!.id,
            category_id: category!.category_id,
            description,
            window_start: chosen!.start,
            window_end: chosen!.end,
          },
        }),
      );
      for (const photo of photos) await uploadPhoto(request.id, photo);
      return request;
    },
    onSuccess: (request) => {
      void queries.invalidateQueries({ queryKey: ["visits"] });
      void queries.invalidateQueries({ queryKey: ["subscriptions"] });
      navigate(`/visits/${request.id}`, { replace: true });
    },
  });
  if (!plans.data) {
    return (
      <Screen title={t("visits.ask")} back>
        <Pending query={plans} />
      </Screen>
    );
  }
  if (!plan || !category) {
    return (
      <Screen title={t("visits.ask")} back>
        <Empty action={<Link to="/">{t("plans.browse")}</Link>}>{usable.length ? t("visits.noVisitsLeft") : t("visits.noPlans")}</Empty>
      </Screen>
    );
  }
  const problem = ask.error;
  return (
    <Screen title={t("visits.ask")} back>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          ask.mutate();
        }}
      >
        {usable.length > 1 ? (
          <Select label={t("visits.plan")} value={plan.id} onChange={(e) => setPlanId(e.target.value)}>
            {usable.map((p) => (
              <option key={p.id} value={p.id}>
                {p.plan.name}
                {p.address ? ` · ${p.address}` : ""}
              </option>
            ))}
          </Select>
        ) : null}
        <Select
          label={t("visits.category")}
          value={category.category_id}
          onChange={(e) => {
            setCategoryId(e.target.value);
            setChosen(null);
          }}
          error={errorOf(problem, "category_id")}
        >
          {categories.map((c) => (
            <option key={c.category_id} value={c.category_id}>
              {c.name} ({c.left})
            </option>
          ))}
        </Select>
        {plan.address ? (
          <p className="meta">
            {t("visits.address")}: {plan.address}
          </p>
        ) : null}
        <WindowPicker
          subscriptionId={plan.id}
          categoryId={category.category_id}
          day={day}
          onDay={(d) => {
            setDay(d);
            setChosen(null);
          }}
          value={chosen}
          onChange={setChosen}
        />
        {errorOf(problem, "window_start") || errorOf(problem, "window_end") ? (
          <p className="field-error">{errorOf(problem, "window_start") ?? errorOf(problem, "window_end")}</p>
        ) : null}
        <div className="field">
          <label htmlFor="description">{t("visits.description")}</label>
          <textarea
            id="description"
            required
            maxLength={2000}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            aria-invalid={!!errorOf(problem, "description")}
          />
          {errorOf(problem, "description") ? <small className="field-error">{errorOf(problem, "description")}</small> : null}
        </div>
        <div className="field">
          <label htmlFor="photos">{t("visits.photos")}</label>
          <input
            id="photos"
            type="file"
            accept="image/jpeg,image/png,image/webp"
            capture="environment"
            multiple
            onChange={(e) => setPhotos([...(e.target.files ?? [])])}
          />
          {photos.length ? <small className="hint">{photos.map((p) => p.name).join(", ")}</small> : null}
        </div>
        <Alert problem={problem} fields />
        <button type="submit" className="primary" disabled={!chosen || !description.trim() || ask.isPending}>
          {t("visits.send")}
        </button>
      </form>
    </Screen>
  );
}
