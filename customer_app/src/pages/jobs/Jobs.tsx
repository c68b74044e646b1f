// The technician's day: open jobs in the order of their windows, today's first.
import { dateIn, window as span } from "@homeplans/web-common/time";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api";
import { useAuth, useZone } from "../../auth";
import { t } from "../../strings";
import { Card, Chip, Empty, Pending, Screen } from "../../ui";

const OPEN = new Set(["assigned", "in_progress"]);

export default function Jobs() {
  const { user } = useAuth();
  const zone = useZone();
  const jobs = useQuery({
    queryKey: ["jobs", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/technician/jobs", { params: { query: { limit: 100 } } })),
    refetchInterval: 60_000,
  });
  const today = dateIn(new Date(), zone);
  const open = (jobs.data?.items ?? [])
    .filter((j) => OPEN.has(j.status))
    .sort((a, b) => a.window_start.localeCompare(b.window_start));
  const todays = open.filter((j) => dateIn(j.window_start, zone) <= today);
  const later = open.filter((j) => dateIn(j.window_start, zone) > today);
  const list = (items: Schemas["JobOut"][]) => (
    <ul className="list">
      {items.map((j) => (
        <li key={j.id}>
          <Card to={`/jobs/${j.id}`}>
            <h2>
              {j.category.name} {j.status === "in_progress" ? <Chip tone="warn">{t("visits.status.in_progress")}</Chip> : null}
            </h2>
            <p>
              <strong>{span(j.window_start, j.window_end, zone)}</strong>
            </p>
            <p>{j.address}</p>
            {j.customer?.name ? <p className="meta">{j.customer.name}</p> : null}
          </Card>
        </li>
      ))}
    </ul>
  );
  return (
    <Screen title={t("jobs.title")}>
      {!jobs.data ? (
        <Pending query={jobs} />
      ) : open.length === 0 ? (
        <Empty>{t("jobs.none")}</Empty>
      ) : (
        <>
          {todays.length ? list(todays) : <Empty>{t("jobs.none")}</Empty>}
          {later.length ? (
            <>
              <h2>{t("jobs.later")}</h2>
              {list(later)}
            </>
          ) : null}
        </>
      )}
    </Screen>
  );
}
