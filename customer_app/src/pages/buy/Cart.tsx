// The cart: what will be bought, for which home, and the total with tax; paying starts the
// checkout (once, whatever happens to the connection: one key per attempt) and goes to the order.
import { money } from "@homeplans/web-common/money";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link, useNavigate } from "react-router";
import { api, idempotencyKey, unwrap } from "../../api";
import { useAuth } from "../../auth";
import { t } from "../../strings";
import { Alert, Card, Empty, Pending, Screen } from "../../ui";

export default function Cart() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const cart = useQuery({ queryKey: ["cart", user?.id], queryFn: () => unwrap(api.GET("/api/v1/cart")) });
  const key = useMemo(idempotencyKey, [cart.dataUpdatedAt]);
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/cart/items/{item_id}", { params: { path: { item_id: id } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["cart"] }),
  });
  const checkout = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/checkout", { params: { header: { "Idempotency-Key": key } }, body: {} })),
    onSuccess: (answer) => {
      void queries.invalidateQueries({ queryKey: ["cart"] });
      navigate(`/orders/${answer.order.id}`, { state: { payment: answer.payment } });
    },
  });
  return (
    <Screen title={t("cart.title")} back>
      {!cart.data ? (
        <Pending query={cart} />
      ) : cart.data.items.length === 0 ? (
        <Empty action={<Link to="/">{t("cart.browse")}</Link>}>{t("cart.empty")}</Empty>
      ) : (
        <>
          <ul className="list">
            {cart.data.items.map((item) => (
              <li key={item.id}>
                <Card>
                  <h2>{item.plan_name}</h2>
                  {item.address ? <p className="meta">{item.address}</p> : null}
                  <p className="price">{money(item.price.total_minor, item.price.currency, item.price.minor_units)}</p>
                  {item.issues.map((issue) => (
                    <p key={issue} className="alert">
                      {issue}
                    </p>
                  ))}
                  <button type="button" className="link" onClick={() => remove.mutate(item.id)}>
                    {t("cart.remove")}
                  </button>
                </Card>
              </li>
            ))}
          </ul>
          {cart.data.totals.map((total) => (
            <p key={total.currency} className="total">
              {t("cart.total")}: <strong>{money(total.total_minor, total.currency, total.minor_units)}</strong>{" "}
              <small>
                ({t("cart.tax")} {money(total.tax_minor, total.currency, total.minor_units)})
              </small>
            </p>
          ))}
          {cart.data.problems.length > 0 ? (
            <div className="alert" role="alert">
              {t("cart.notReady")}
              <ul>
                {cart.data.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          ) : null}
          <Alert problem={checkout.error ?? remove.error} />
          <button
            type="button"
            className="primary"
            disabled={!cart.data.ready || checkout.isPending}
            onClick={() => checkout.mutate()}
          >
            {t("cart.checkout", {
              amount: cart.data.totals
                .map((total) => money(total.total_minor, total.currency, total.minor_units))
                .join(" + "),
            })}
          </button>
        </>
      )}
    </Screen>
  );
}
