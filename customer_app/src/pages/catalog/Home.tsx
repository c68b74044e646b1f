// The first screen: the plans on sale, by category. Public (no sign-in), and kept on the phone
// by the service worker, so it opens offline after one visit.
import { money } from "@homeplans/web-common/money";
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { publicApi, unwrap, type Schemas } from "../../api";
import { useAuth } from "../../auth";
import { t } from "../../strings";
import { Card, Empty, Pending, Screen } from "../../ui";

export function PlanPrice({ plan }: { plan: Schemas["PlanOut"] }) {
  const p = plan.price;
  const tax = money(p.tax_minor, p.currency, p.minor_units);
  return (
    <p className="price">
      <strong>{money(p.total_minor, p.currency, p.minor_units)}</strong>{" "}
      <small>{p.includes_tax ? t("catalog.perYear", { tax }) : t("catalog.excludesTax", { tax })}</small>
    </p>
  );
}

export default function Home() {
  const [params, setParams] = useSearchParams();
  const category = params.get("category") ?? undefined;
  const { user } = useAuth();
  const categories = useQuery({
    queryKey: ["catalog", "categories"],
    queryFn: () => unwrap(publicApi.GET("/api/v1/catalog/categories")),
  });
  const plans = useQuery({
    queryKey: ["catalog", "plans", category ?? "all"],
    queryFn: () => unwrap(publicApi.GET("/api/v1/catalog/plans", { params: { query: { category, limit: 100 } } })),
  });
  return (
    <Screen
      title={t("catalog.title")}
      actions={
        user ? (
          <Link className="bar-link" to="/cart">
            {t("cart.title")}
          </Link>
        ) : (
          <Link className="bar-link" to="/sign-in">
            {t("auth.signIn")}
          </Link>
        )
      }
    >
      <p className="lead">{t("catalog.intro")}</p>
      {categories.data && categories.data.length > 0 ? (
        <div className="chips" role="group" aria-label={t("visits.category")}>
          <button type="button" aria-pressed={!category} onClick={() => setParams({})}>
            {t("catalog.all")}
          </button>
          {categories.data.map((c) => (
            <button key={c.id} type="button" aria-pressed={category === c.slug} onClick={() => setParams({ category: c.slug })}>
              {c.name}
            </button>
          ))}
        </div>
      ) : null}
      {!plans.data ? (
        <Pending query={plans} />
      ) : plans.data.items.length === 0 ? (
        <Empty>{t("catalog.none")}</Empty>
      ) : (
        <ul className="list">
          {plans.data.items.map((plan) => (
            <li key={plan.id}>
              <Card to={`/plans/${plan.slug}`}>
                <h2>{plan.name}</h2>
                {plan.badge ? <span className="chip good">{plan.badge}</span> : null}
                <p>{plan.description}</p>
                <PlanPrice plan={plan} />
                <p className="meta">
                  {t("catalog.visits", { visits: plan.visit_cap })} · {t("catalog.validity", { days: plan.validity_days })}
                </p>
              </Card>
            </li>
          ))}
        </ul>
      )}
    </Screen>
  );
}
