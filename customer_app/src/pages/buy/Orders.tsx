import { money } from "@homeplans/web-common/money";
import { day } from "@homeplans/web-common/time";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api";
import { useAuth, useZone } from "../../auth";
import { t } from "../../strings";
import { Card, Chip, Empty, Pending, Screen } from "../../ui";

export default function Orders() {
  const { user } = useAuth();
  const zone = useZone();
  const orders = useQuery({
    queryKey: ["orders", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/orders", { params: { query: { limit: 50 } } })),
  });
  return (
    <Screen title={t("orders.title")} back>
      {!orders.data ? (
        <Pending query={orders} />
      ) : orders.data.items.length === 0 ? (
        <Empty>{t("orders.none")}</Empty>
      ) : (
        <ul className="list">
          {orders.data.items.map((o) => (
            <li key={o.id}>
              <Card to={`/orders/${o.id}`}>
                <h2>{o.items.map((i) => i.plan_name).join(", ")}</h2>
                <p>
                  <Chip tone={o.status === "completed" ? "good" : o.status === "failed" ? "bad" : "neutral"}>
                    {t(`orders.status.${o.status}`)}
                  </Chip>{" "}
                  {money(o.total_minor, o.currency)} · {day(o.created_at, zone)}
                </p>
              </Card>
            </li>
          ))}
        </ul>
      )}
    </Screen>
  );
}
