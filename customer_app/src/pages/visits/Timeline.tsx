// A visit's timeline, newest first: what happened, in words, when (in the reader's zone) and who.
import { moment } from "@homeplans/web-common/time";
import type { Schemas } from "../../api";
import { useZone } from "../../auth";
import { t } from "../../strings";

export function Timeline({ events }: { events: Schemas["domain__service_requests__schemas__EventOut"][] }) {
  const zone = useZone();
  return (
    <>
      <h2>{t("visits.timeline")}</h2>
      <ul className="timeline">
        {[...events].reverse().map((e) => (
          <li key={e.id}>
            <strong>{t(`visits.kinds.${e.kind}`)}</strong>
            {e.note && e.kind !== "created" ? <span>{e.note}</span> : null}
            <small>
              {moment(e.at, zone)} · {e.actor.name}
            </small>
          </li>
        ))}
      </ul>
    </>
  );
}
