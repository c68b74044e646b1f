// One job, on the technician's phone: where (with a map link), who to call, the problem and its
// photos; start it on arrival, complete it with what was done.
import { window as span } from "@homeplans/web-common/time";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router";
import { api, unwrap } from "../../api";
import { useZone } from "../../auth";
import { t } from "../../strings";
import { Alert, Chip, Field, Pending, Screen, errorOf } from "../../ui";
import { Timeline } from "../visits/Timeline";
import { Photos } from "../visits/Photos";

export default function Job() {
  const { id = "" } = useParams();
  const zone = useZone();
  const queries = useQueryClient();
  const job = useQuery({
    queryKey: ["job", id],
    queryFn: () => unwrap(api.GET("/api/v1/technician/jobs/{request_id}", { params: { path: { request_id: id } } })),
  });
  const done = () => {
    void queries.invalidateQueries({ queryKey: ["job", id] });
    void queries.invalidateQueries({ queryKey: ["jobs"] });
  };
  const start = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/technician/jobs/{request_id}/start", { params: { path: { request_id: id } } })),
    onSuccess: done,
  });
  const complete = useMutation({
    mutationFn: (form: FormData) => {
      const part = String(form.get("part") ?? "").trim();
      return unwrap(
        api.POST("/api/v1/technician/jobs/{request_id}/complete", {
          params: { path: { request_id: id } },
          body: {
            notes: String(form.get("notes") ?? "").trim() || null,
            parts_used: part ? [{ name: part, quantity: 1, amount_minor: 0 }] : [],
          },
        }),
      );
    },
    onSuccess: done,
  });
  if (!job.data) {
    return (
      <Screen title={t("jobs.title")} back>
        <Pending query={job} />
      </Screen>
    );
  }
  const j = job.data;
  const problem = start.error ?? complete.error;
  const map = `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(j.address)}`;
  return (
    <Screen title={j.category.name} back>
      <p>
        <Chip>{t(`visits.status.${j.status}`)}</Chip> <strong>{span(j.window_start, j.window_end, zone)}</strong>
      </p>
      <p>
        {j.address}{" "}
        <a href={map} target="_blank" rel="noopener noreferrer">
          {t("jobs.map")}
        </a>
      </p>
      {j.customer ? (
        <p>
          {j.customer.name}
          {j.customer.phone ? (
            <>
              {" "}
              <a className="button secondary" href={`tel:${j.customer.phone}`}>
                {t("jobs.callCustomer", { name: j.customer.name ?? j.customer.phone })}
              </a>
            </>
          ) : null}
        </p>
      ) : null}
      <h2>{t("jobs.problem")}</h2>
      <p>{j.description}</p>
      <Photos requestId={j.id} />
      <Alert problem={problem} fields />
      {j.status === "assigned" ? (
        <button type="button" className="primary" onClick={() => start.mutate()} disabled={start.isPending}>
          {t("jobs.start")}
        </button>
      ) : null}
      {j.status === "in_progress" ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            complete.mutate(new FormData(e.currentTarget));
          }}
        >
          <Field label={t("jobs.notes")} name="notes" maxLength={2000} error={errorOf(problem, "notes")} />
          <Field label={t("jobs.part")} name="part" maxLength={200} error={errorOf(problem, "parts_used.0.name")} />
          <button type="submit" className="primary" disabled={complete.isPending}>
            {t("jobs.complete")}
          </button>
        </form>
      ) : null}
      <Timeline events={j.timeline} />
    </Screen>
  );
}
