import { day } from "@homeplans/web-common/time";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../../api";
import { useAuth, useZone } from "../../auth";
import { t } from "../../strings";
import { Card, Chip, Empty, Pending, Screen } from "../../ui";

export function statusTone(status: string): "good" | "warn" | "bad" | "neutral" {
  return status === "active" ? "good" : status === "past_due" || status === "grace" ? "warn" : status === "expired" ? "bad" : "neutral";
}

export function PlanSummary({ plan }: { plan: Schemas["SubscriptionOut"] }) {
  const zone = useZone();
  return (
    <>
      <h2>{plan.plan.name}</h2>
      <p>
        <Chip tone={statusTone(plan.status)}>{t(`plans.status.${plan.status}`)}</Chip>{" "}
        {t("plans.validUntil", { day: day(plan.ends_at, zone) })}
      </p>
      <p className="meta">{t("plans.visitsLeft", { left: plan.visits.left, allowed: plan.visits.allowed })}</p>
    </>
  );
}

export default function MyPlans() {
  const { user } = useAuth();
  const plans = useQuery({
    queryKey: ["subscriptions", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/subscriptions", { params: { query: { limit: 50 } } })),
  });
  return (
    <Screen title={t("plans.title")} back>
      {!plans.data ? (
        <Pending query={plans} />
      ) : plans.data.items.length === 0 ? (
        <Empty action={<Link to="/">{t("plans.browse")}</Link>}>{t("plans.none")}</Empty>
      ) : (
        <ul className="list">
          {plans.data.items.map((plan) => (
            <li key={plan.id}>
              <Card to={`/my-plans/${plan.id}`}>
                <PlanSummary plan={plan} />
              </Card>
            </li>
          ))}
        </ul>
      )}
    </Screen>
  );
}
