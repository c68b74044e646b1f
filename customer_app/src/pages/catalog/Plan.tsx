// One plan: what it includes, its visits, validity and price with tax; add it to the cart for
// one of the customer's addresses.
import { money } from "@homeplans/web-common/money";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, publicApi, unwrap } from "../../api";
import { useAuth } from "../../auth";
import { t } from "../../strings";
import { Alert, Pending, Screen, Select } from "../../ui";
import { PlanPrice } from "./Home";

export default function Plan() {
  const { slug = "" } = useParams();
  const { user } = useAuth();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const plan = useQuery({
    queryKey: ["catalog", "plan", slug],
    queryFn: () => unwrap(publicApi.GET("/api/v1/catalog/plans/{plan}", { params: { path: { plan: slug } } })),
  });
  const addresses = useQuery({
    queryKey: ["addresses", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me/addresses")),
    enabled: !!user,
  });
  const [address, setAddress] = useState<string>("");
  const chosen = address || addresses.data?.find((a) => a.is_default)?.id || addresses.data?.[0]?.id || "";
  const add = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/cart", { body: { plan_id: plan.data!.id, address_id: chosen || null } })),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["cart"] });
      navigate("/cart");
    },
  });
  if (!plan.data) {
    return (
      <Screen title={t("catalog.title")} back>
        <Pending query={plan} />
      </Screen>
    );
  }
  const p = plan.data;
  return (
    <Screen title={p.name} back>
      <p className="lead">{p.description}</p>
      <PlanPrice plan={p} />
      <p className="meta">
        {t("catalog.visits", { visits: p.visit_cap })} · {t("catalog.validity", { days: p.validity_days })}
      </p>
      <h2>{t("catalog.inclusions")}</h2>
      <ul className="list plain">
        {p.inclusions.map((i) => (
          <li key={i.category_id}>
            <strong>{i.category}</strong>: {t("catalog.visits", { visits: i.visits })}
            <br />
            <small>
              {[
                i.labour_covered ? t("catalog.labour") : null,
                i.parts_covered
                  ? i.parts_cap_minor !== null
                    ? t("catalog.partsUpTo", { cap: money(i.parts_cap_minor, p.price.currency, p.price.minor_units) })
                    : t("catalog.parts")
                  : null,
              ]
                .filter(Boolean)
                .join(" · ")}
            </small>
            {i.details ? <p>{i.details}</p> : null}
          </li>
        ))}
      </ul>
      {!user ? (
        <Link className="button" to={`/sign-in?next=${encodeURIComponent(`/plans/${slug}`)}`}>
          {t("catalog.signInToBuy")}
        </Link>
      ) : addresses.data && addresses.data.length === 0 ? (
        <p>
          <Link to="/account">{t("catalog.noAddress")}</Link>
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          {addresses.data && addresses.data.length > 1 ? (
            <Select label={t("catalog.address")} value={chosen} onChange={(e) => setAddress(e.target.value)}>
              {addresses.data.map((a) => (
                <option key={a.id} value={a.id}>
                  {[a.label, a.line1, a.city, a.postal_code].filter(Boolean).join(", ")}
                </option>
              ))}
            </Select>
          ) : null}
          <Alert problem={add.error} />
          <button type="submit" className="primary" disabled={add.isPending || !addresses.data}>
            {t("catalog.addToCart")}
          </button>
        </form>
      )}
    </Screen>
  );
}
