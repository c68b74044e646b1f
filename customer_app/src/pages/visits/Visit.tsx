// One visit, followed live (server-sent events, resumed with Last-Event-ID after a drop): its
// status, the technician with a call button, the timeline; moving or cancelling it before work
// starts, rating it once done.
import { follow, type LiveState } from "@homeplans/web-common/sse";
import { window as span } from "@homeplans/web-common/time";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { api, session, unwrap } from "../../api";
import { useZone } from "../../auth";
import { t } from "../../strings";
import { Alert, Chip, Field, Pending, Screen } from "../../ui";
import { Timeline } from "./Timeline";
import { Photos } from "./Photos";
import { statusTone } from "./Visits";
import { WindowPicker, type Chosen } from "./WindowPicker";
import { dateIn } from "@homeplans/web-common/time";

const OPEN = new Set(["pending", "assigned"]);

export default function Visit() {
  const { id = "" } = useParams();
  const zone = useZone();
  const queries = useQueryClient();
  const key = ["visit", id];
  const visit = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/v1/service-requests/{request_id}", { params: { path: { request_id: id } } })),
  });
  const [live, setLive] = useState<LiveState>("connecting");
  useEffect(() => {
    const stream = follow(`/service-requests/${id}/events`, {
      fetch: session.authedFetch,
      onState: setLive,
      onEvent: (event) => {
        if (event.event === "change") void queries.invalidateQueries({ queryKey: ["visit", id] });
      },
    });
    return () => stream.stop();
  }, [id, queries]);
  const refresh = () => void queries.invalidateQueries({ queryKey: key });
  const [moving, setMoving] = useState(false);
  const [day, setDay] = useState(() => dateIn(new Date(Date.now() + 86_400_000), zone));
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const reschedule = useMutation({
    mutationFn: (w: Chosen) =>
      unwrap(
        api.POST("/api/v1/service-requests/{request_id}/reschedule", {
          params: { path: { request_id: id } },
          body: { window_start: w.start, window_end: w.end },
        }),
      ),
    onSuccess: () => {
      setMoving(false);
      refresh();
    },
  });
  const [cancelling, setCancelling] = useState(false);
  const cancel = useMutation({
    mutationFn: (reason: string) =>
      unwrap(
        api.POST("/api/v1/service-requests/{request_id}/cancel", {
          params: { path: { request_id: id } },
          body: { reason: reason.trim() || null },
        }),
      ),
    onSuccess: refresh,
  });
  const [stars, setStars] = useState(0);
  const rate = useMutation({
    mutationFn: (comment: string) =>
      unwrap(
        api.POST("/api/v1/service-requests/{request_id}/rating", {
          params: { path: { request_id: id } },
          body: { stars, comment: comment.trim() || null },
        }),
      ),
    onSuccess: refresh,
  });
  if (!visit.data) {
    return (
      <Screen title={t("visits.title")} back>
        <Pending query={visit} />
      </Screen>
    );
  }
  const v = visit.data;
  const problem = reschedule.error ?? cancel.error ?? rate.error;
  return (
    <Screen title={v.category.name} back>
      <p>
        <Chip tone={statusTone(v.status)}>{t(`visits.status.${v.status}`)}</Chip>{" "}
        <small className={live === "live" ? "live" : "meta"} aria-live="polite">
          {live === "live" ? t("visits.live") : live === "reconnecting" ? t("visits.reconnecting") : ""}
        </small>
      </p>
      <p>
        <strong>{span(v.window_start, v.window_end, zone)}</strong>
        <br />
        {v.address}
      </p>
      <p className="meta">{v.description}</p>
      {v.technician ? (
        <section aria-label={t("visits.technician")} className="card">
          <p>
            {t("visits.technician")}: <strong>{v.technician.name}</strong>
          </p>
          {v.technician.phone && OPEN.has(v.status) ? (
            <a className="button secondary" href={`tel:${v.technician.phone}`}>
              {t("visits.call", { name: v.technician.name })}
            </a>
          ) : null}
        </section>
      ) : null}
      <Alert problem={problem} />
      {OPEN.has(v.status) ? (
        <div className="actions">
          {moving ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (chosen) reschedule.mutate(chosen);
              }}
            >
              <WindowPicker
                subscriptionId={v.subscription_id}
                categoryId={v.category.id}
                day={day}
                onDay={(d) => {
                  setDay(d);
                  setChosen(null);
                }}
                value={chosen}
                onChange={setChosen}
              />
              <button type="submit" className="primary" disabled={!chosen || reschedule.isPending}>
                {t("visits.saveTime")}
              </button>
            </form>
          ) : (
            <button type="button" className="secondary" onClick={() => setMoving(true)}>
              {t("visits.reschedule")}
            </button>
          )}
          {cancelling ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                cancel.mutate(String(new FormData(e.currentTarget).get("reason") ?? ""));
              }}
            >
              <Field label={t("visits.cancelReason")} name="reason" maxLength={500} />
              <button type="submit" className="danger" disabled={cancel.isPending}>
                {t("visits.confirmCancel")}
              </button>
            </form>
          ) : (
            <button type="button" className="link danger-text" onClick={() => setCancelling(true)}>
              {t("visits.cancel")}
            </button>
          )}
        </div>
      ) : null}
      {v.status === "completed" && v.rating === null ? (
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            rate.mutate(String(new FormData(e.currentTarget).get("comment") ?? ""));
          }}
        >
          <fieldset className="stars">
            <legend>{t("visits.rate")}</legend>
            {[1, 2, 3, 4, 5].map((n) => (
              <label key={n}>
                <input type="radio" name="stars" value={n} checked={stars === n} onChange={() => setStars(n)} />
                {n}★
              </label>
            ))}
          </fieldset>
          <Field label={t("visits.comment")} name="comment" maxLength={1000} />
          <button type="submit" className="primary" disabled={!stars || rate.isPending}>
            {t("visits.sendRating")}
          </button>
        </form>
      ) : v.rating !== null ? (
        <p className="notice good">{t("visits.rated", { stars: v.rating })}</p>
      ) : null}
      <Photos requestId={v.id} />
      <Timeline events={v.timeline} />
    </Screen>
  );
}
