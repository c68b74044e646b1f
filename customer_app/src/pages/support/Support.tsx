// Help: a one-tap call to the support line (with the hours the API gives, and whether it is
// open now), and asking to be called back, then following that request.
import { clock, instant, moment, when } from "@homeplans/web-common/time";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, publicApi, unwrap } from "../../api";
import { useAuth, useZone } from "../../auth";
import { en, t } from "../../strings";
import { Alert, Chip, Empty, Field, Pending, Screen, Select, errorOf } from "../../ui";

export default function Support() {
  const { user } = useAuth();
  const line = useQuery({ queryKey: ["catalog", "support"], queryFn: () => unwrap(publicApi.GET("/api/v1/support")) });
  return (
    <Screen title={t("support.title")} back>
      {!line.data ? (
        <Pending query={line} />
      ) : (
        <section className="card">
          <a className="button primary" href={line.data.tel}>
            {t("support.call", { phone: line.data.phone })}
          </a>
          <p role="status">
            {line.data.open_now
              ? t("support.open", { time: line.data.closes_at ? clock(line.data.closes_at, line.data.timezone) : "24:00" })
              : t("support.closed", { time: line.data.opens_at ? when(line.data.opens_at, line.data.timezone) : "—" })}
          </p>
          <details>
            <summary>{t("support.hours")}</summary>
            <ul className="list plain">
              {line.data.hours.map((h) => (
                <li key={`${h.day}-${h.opens}`}>
                  {h.day}: {h.opens}–{h.closes}
                </li>
              ))}
            </ul>
          </details>
        </section>
      )}
      {user ? (
        <Callbacks />
      ) : (
        <p>
          <Link to="/sign-in?next=/support">{t("support.askCallback")}</Link>
        </p>
      )}
    </Screen>
  );
}

function Callbacks() {
  const { user } = useAuth();
  const zone = useZone();
  const queries = useQueryClient();
  const callbacks = useQuery({
    queryKey: ["callbacks", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/support/callbacks", { params: { query: { limit: 20 } } })),
  });
  const changed = () => void queries.invalidateQueries({ queryKey: ["callbacks"] });
  const ask = useMutation({
    mutationFn: (form: FormData) => {
      const at = (name: string) => {
        const value = String(form.get(name) ?? "");
        return value ? instant(value.slice(0, 10), value.slice(11, 16), zone) : null;
      };
      return unwrap(
        api.POST("/api/v1/support/callbacks", {
          body: {
            reason: String(form.get("reason")) as "billing",
            note: String(form.get("note") ?? "").trim() || null,
            phone: String(form.get("phone") ?? "").trim() || null,
            preferred_from: at("preferred_from"),
            preferred_to: at("preferred_to"),
          },
        }),
      );
    },
    onSuccess: changed,
  });
  const cancel = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/support/callbacks/{callback_id}/cancel", { params: { path: { callback_id: id } } })),
    onSuccess: changed,
  });
  const problem = ask.error ?? cancel.error;
  return (
    <>
      <h2>{t("support.askCallback")}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          ask.mutate(new FormData(e.currentTarget));
        }}
      >
        <Select label={t("support.reason")} name="reason" defaultValue="service" error={errorOf(problem, "reason")}>
          {Object.entries(en.support.reasons).map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </Select>
        <Field label={t("support.note")} name="note" maxLength={1000} error={errorOf(problem, "note")} />
        <Field label={t("support.phone")} name="phone" type="tel" autoComplete="tel" error={errorOf(problem, "phone")} />
        <Field label={t("support.preferredFrom")} name="preferred_from" type="datetime-local" error={errorOf(problem, "preferred_from")} />
        <Field label={t("support.preferredTo")} name="preferred_to" type="datetime-local" error={errorOf(problem, "preferred_to")} />
        <Alert problem={problem} fields />
        <button type="submit" className="primary" disabled={ask.isPending}>
          {t("support.send")}
        </button>
      </form>
      <h2>{t("support.callbacks")}</h2>
      {!callbacks.data ? (
        <Pending query={callbacks} />
      ) : callbacks.data.items.length === 0 ? (
        <Empty>{t("support.noCallbacks")}</Empty>
      ) : (
        <ul className="list">
          {callbacks.data.items.map((c) => (
            <li key={c.id} className="card">
              <p>
                <Chip>{t(`support.callbackStatus.${c.status}`)}</Chip> {t(`support.reasons.${c.reason}`)}
              </p>
              <p className="meta">
                {moment(c.created_at, zone)} · {c.phone}
              </p>
              {c.status === "open" ? (
                <button type="button" className="link" onClick={() => cancel.mutate(c.id)}>
                  {t("support.cancelCallback")}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
