// One plan held: validity and visits left (by category), renewing now, automatic renewal, and
// cancelling after the refund quote is shown.
import { money } from "@homeplans/web-common/money";
import { moment } from "@homeplans/web-common/time";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, idempotencyKey, unwrap, type Schemas } from "../../api";
import { useZone } from "../../auth";
import { t } from "../../strings";
import { Alert, Pending, Screen } from "../../ui";
import { PlanSummary } from "./MyPlans";

const LIVE = new Set(["active", "past_due", "grace"]);

export default function Subscription() {
  const { id = "" } = useParams();
  const zone = useZone();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const plan = useQuery({
    queryKey: ["subscription", id],
    queryFn: () => unwrap(api.GET("/api/v1/subscriptions/{subscription_id}", { params: { path: { subscription_id: id } } })),
  });
  const renewKey = useMemo(idempotencyKey, [plan.dataUpdatedAt]);
  const refresh = () => void queries.invalidateQueries({ queryKey: ["subscription", id] });
  const renew = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/subscriptions/{subscription_id}/renew", {
          params: { path: { subscription_id: id }, header: { "Idempotency-Key": renewKey } },
        }),
      ),
    onSuccess: (answer) => navigate(`/orders/${answer.order.id}`, { state: { payment: answer.payment } }),
  });
  const autoRenew = useMutation({
    mutationFn: (enabled: boolean) =>
      unwrap(api.PUT("/api/v1/subscriptions/{subscription_id}/auto-renew", { params: { path: { subscription_id: id } }, body: { enabled } })),
    onSuccess: refresh,
  });
  const [quote, setQuote] = useState<Schemas["QuoteOut"] | null>(null);
  const ask = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/subscriptions/{subscription_id}/cancellation-quote", { params: { path: { subscription_id: id } } })),
    onSuccess: setQuote,
  });
  const cancel = useMutation({
    mutationFn: (quoteId: string) =>
      unwrap(api.POST("/api/v1/subscriptions/{subscription_id}/cancel", { params: { path: { subscription_id: id } }, body: { quote_id: quoteId } })),
    onSuccess: () => {
      setQuote(null);
      refresh();
    },
  });
  if (!plan.data) {
    return (
      <Screen title={t("plans.title")} back>
        <Pending query={plan} />
      </Screen>
    );
  }
  const p = plan.data;
  const live = LIVE.has(p.status);
  const problem = renew.error ?? autoRenew.error ?? ask.error ?? cancel.error;
  return (
    <Screen title={p.plan.name} back>
      <PlanSummary plan={p} />
      <ul className="list plain">
        {p.visits.by_category.map((c) => (
          <li key={c.category_id}>{t("plans.byCategory", { name: c.name, left: c.left, allowed: c.allowed })}</li>
        ))}
      </ul>
      <Alert problem={problem} />
      {cancel.isSuccess ? (
        <p className="notice good" role="status">
          {t("plans.cancelled")}
        </p>
      ) : null}
      {live ? (
        <div className="actions">
          {p.visits.left > 0 ? (
            <Link className="button primary" to={`/visits/new?plan=${p.id}`}>
              {t("plans.requestVisit")}
            </Link>
          ) : null}
          <button type="button" className="secondary" onClick={() => renew.mutate()} disabled={renew.isPending}>
            {t("plans.renew")}
          </button>
          <label className="switch">
            <input
              type="checkbox"
              checked={p.auto_renew}
              disabled={autoRenew.isPending || (!p.auto_renew && !p.payment_method)}
              onChange={(e) => autoRenew.mutate(e.target.checked)}
            />
            {t("plans.autoRenew")}
          </label>
          {!p.payment_method && !p.auto_renew ? <small className="hint">{t("plans.autoRenewNeedsMethod")}</small> : null}
          {quote ? (
            <div className="notice warn">
              <p>{t("plans.quote", { amount: money(quote.refund_minor, quote.currency), why: quote.why })}</p>
              <button type="button" className="danger" onClick={() => cancel.mutate(quote.quote_id)} disabled={cancel.isPending}>
                {t("plans.confirmCancel", { amount: money(quote.refund_minor, quote.currency) })}
              </button>
              <button type="button" className="link" onClick={() => setQuote(null)}>
                {t("plans.keep")}
              </button>
            </div>
          ) : (
            <button type="button" className="link danger-text" onClick={() => ask.mutate()} disabled={ask.isPending}>
              {t("plans.cancel")}
            </button>
          )}
        </div>
      ) : null}
      <h2>{t("plans.history")}</h2>
      <ul className="timeline">
        {[...p.history].reverse().map((e, i) => (
          <li key={`${e.at}-${i}`}>
            <strong>{e.detail ?? e.kind.replace(/_/g, " ")}</strong>
            <small>
              {moment(e.at, zone)} · {e.actor.name}
            </small>
          </li>
        ))}
      </ul>
    </Screen>
  );
}
