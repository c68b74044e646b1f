import { window as span } from "@homeplans/web-common/time";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api";
import { useAuth, useZone } from "../../auth";
import { t } from "../../strings";
import { Card, Chip, Empty, Pending, Screen } from "../../ui";

export function statusTone(status: string): "good" | "warn" | "bad" | "neutral" {
  return status === "completed" ? "good" : status === "cancelled" ? "bad" : status === "pending" ? "warn" : "neutral";
}

export default function Visits() {
  const { user } = useAuth();
  const zone = useZone();
  const visits = useQuery({
    queryKey: ["visits", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/service-requests", { params: { query: { limit: 50 } } })),
  });
  return (
    <Screen
      title={t("visits.title")}
      actions={
        <Link className="bar-link" to="/visits/new">
          {t("visits.ask")}
        </Link>
      }
    >
      {!visits.data ? (
        <Pending query={visits} />
      ) : visits.data.items.length === 0 ? (
        <Empty action={<Link to="/visits/new">{t("visits.ask")}</Link>}>{t("visits.none")}</Empty>
      ) : (
        <ul className="list">
          {visits.data.items.map((v) => (
            <li key={v.id}>
              <Card to={`/visits/${v.id}`}>
                <h2>{v.category.name}</h2>
                <p>
                  <Chip tone={statusTone(v.status)}>{t(`visits.status.${v.status}`)}</Chip>{" "}
                  {span(v.window_start, v.window_end, zone)}
                </p>
                <p className="meta">{v.description}</p>
              </Card>
            </li>
          ))}
        </ul>
      )}
    </Screen>
  );
}
