// What the customer is told, and how: each topic by email, push and inbox (what must reach them
// stays in the inbox), quiet hours for push, their time zone; and push on this phone when the
// server has Firebase web push configured.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "../../api";
import { useAuth, useConfig } from "../../auth";
import { t } from "../../strings";
import { Alert, Field, Pending, Screen, errorOf } from "../../ui";
import { enablePush } from "./push";

type Settings = Schemas["NotificationSettings"];
type Channel = "email" | "push" | "in_app";

export default function Preferences() {
  const { user } = useAuth();
  const settings = useQuery({
    queryKey: ["notification-settings", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me/notification-settings")),
  });
  return (
    <Screen title={t("prefs.title")} back>
      {!settings.data ? <Pending query={settings} /> : <Form key={settings.dataUpdatedAt} initial={settings.data} />}
      <Push />
    </Screen>
  );
}

function Form({ initial }: { initial: Settings }) {
  const queries = useQueryClient();
  const [topics, setTopics] = useState(() => Object.fromEntries(initial.topics.map((c) => [c.topic, c])));
  const save = useMutation({
    mutationFn: (form: FormData) => {
      const starts = String(form.get("starts") ?? "");
      const ends = String(form.get("ends") ?? "");
      return unwrap(
        api.PATCH("/api/v1/me/notification-settings", {
          body: {
            time_zone: String(form.get("time_zone")),
            quiet_hours: starts && ends ? { starts, ends } : null,
            topics: Object.fromEntries(
              Object.values(topics).map((c) => [c.topic, { email: c.email, push: c.push, in_app: c.in_app }]),
            ),
          },
        }),
      );
    },
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["notification-settings"] }),
  });
  const toggle = (topic: string, channel: Channel) =>
    setTopics((all) => ({ ...all, [topic]: { ...all[topic], [channel]: !all[topic][channel] } }));
  const problem = save.error;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(new FormData(e.currentTarget));
      }}
    >
      <table className="prefs">
        <caption className="sr-only">{t("prefs.title")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("prefs.topic")}</th>
            <th scope="col">{t("prefs.email")}</th>
            <th scope="col">{t("prefs.push")}</th>
            <th scope="col">{t("prefs.inApp")}</th>
          </tr>
        </thead>
        <tbody>
          {Object.values(topics).map((c) => (
            <tr key={c.topic}>
              <th scope="row">{c.label}</th>
              {(["email", "push", "in_app"] as Channel[]).map((channel) => (
                <td key={channel}>
                  <input
                    type="checkbox"
                    aria-label={`${c.label}: ${t(channel === "in_app" ? "prefs.inApp" : `prefs.${channel}`)}`}
                    checked={c[channel]}
                    disabled={channel === "in_app" && c.transactional}
                    onChange={() => toggle(c.topic, channel)}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <fieldset>
        <legend>{t("prefs.quietHours")}</legend>
        <Field label={t("prefs.from")} name="starts" type="time" defaultValue={initial.quiet_hours?.starts?.slice(0, 5) ?? ""} error={errorOf(problem, "quiet_hours.starts")} />
        <Field label={t("prefs.to")} name="ends" type="time" defaultValue={initial.quiet_hours?.ends?.slice(0, 5) ?? ""} error={errorOf(problem, "quiet_hours.ends")} />
      </fieldset>
      <Field label={t("prefs.timeZone")} name="time_zone" defaultValue={initial.time_zone} required error={errorOf(problem, "time_zone")} />
      <Alert problem={problem} fields />
      <button type="submit" className="primary" disabled={save.isPending}>
        {save.isSuccess ? t("prefs.saved") : t("prefs.save")}
      </button>
    </form>
  );
}

function Push() {
  const config = useConfig();
  const [state, setState] = useState<string | null>(null);
  const firebase = config.data?.firebase;
  if (!firebase?.vapid_key) return <p className="meta">{t("prefs.pushUnavailable")}</p>;
  return (
    <>
      <button type="button" className="secondary" onClick={() => void enablePush(firebase).then(setState)}>
        {t("prefs.pushOn")}
      </button>
      {state ? <p role="status">{state}</p> : null}
    </>
  );
}
