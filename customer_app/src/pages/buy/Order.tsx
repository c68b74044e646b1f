// One order: paying it (with the provider configured, resumed wherever it stands when the payer
// comes back from the payment page), then its receipt: what was bought, the total with tax,
// and any refunds.
import { money } from "@homeplans/web-common/money";
import { day, moment } from "@homeplans/web-common/time";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { api, session as appSession, unwrap, type Schemas } from "../../api";
import { useConfig, useZone } from "../../auth";
import { t } from "../../strings";
import { Alert, Chip, Pending, Screen } from "../../ui";
import { razorpayCheckout, sandboxUrl, stripeElement } from "./pay";

const ENDED = new Set(["completed", "failed", "expired"]);

export default function Order() {
  const { id = "" } = useParams();
  const location = useLocation();
  const given = (location.state as { payment?: Schemas["PaymentSession"] | null } | null)?.payment ?? null;
  const progress = useQuery({
    queryKey: ["checkout", id],
    queryFn: () => unwrap(api.GET("/api/v1/orders/{order_id}/checkout", { params: { path: { order_id: id } } })),
    refetchInterval: (q) => (q.state.data && ENDED.has(q.state.data.status) ? false : 1500),
  });
  const ended = !!progress.data && ENDED.has(progress.data.status);
  const order = useQuery({
    queryKey: ["order", id, ended],
    queryFn: () => unwrap(api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: id } } })),
  });
  if (!order.data || !progress.data) {
    return (
      <Screen title={t("pay.title")} back>
        <Pending query={order.error ? order : progress} />
      </Screen>
    );
  }
  const state = progress.data;
  const payment = state.payment ?? given;
  return (
    <Screen title={order.data.receipt_number ? t("pay.receipt", { number: order.data.receipt_number }) : t("pay.title")} back>
      {state.status === "completed" ? (
        <p className="notice good" role="status">
          {t("pay.paid")} <Link to="/my-plans">{t("pay.yourPlans")}</Link>
        </p>
      ) : state.status === "failed" ? (
        <div className="notice bad" role="alert">
          <p>
            {t("pay.failed")}
            {state.failure_reason ? `: ${state.failure_reason}` : ""}
          </p>
          <Link to="/cart">{t("pay.retry")}</Link>
        </div>
      ) : state.status === "expired" ? (
        <div className="notice bad" role="alert">
          <p>{t("pay.expired")}</p>
          <Link to="/cart">{t("pay.retry")}</Link>
        </div>
      ) : payment && state.status === "awaiting_payment" ? (
        <Pay orderId={id} payment={payment} />
      ) : (
        <p className="state" role="status">
          {t("pay.waiting")}
        </p>
      )}
      <Receipt order={order.data} />
    </Screen>
  );
}

function Pay({ orderId, payment }: { orderId: string; payment: Schemas["PaymentSession"] }) {
  const config = useConfig();
  const element = useRef<HTMLDivElement>(null);
  const [confirm, setConfirm] = useState<(() => Promise<string | null>) | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const provider = payment.provider;
  const stripeKey = config.data?.payments.stripe_publishable_key;
  useEffect(() => {
    if (provider !== "stripe" || !stripeKey || !element.current) return;
    void stripeElement(stripeKey, payment, orderId, element.current).then((fn) => setConfirm(() => fn), (e) => setProblem(String(e)));
  }, [provider, stripeKey, payment, orderId]);
  const amount = money(payment.amount_minor, payment.currency);
  if (provider === "sandbox") {
    return (
      <a className="button primary" href={sandboxUrl(payment, orderId)}>
        {t("pay.open")} ({amount})
      </a>
    );
  }
  if (provider === "stripe") {
    return (
      <div>
        <div ref={element} />
        <Alert problem={problem} />
        <button type="button" className="primary" disabled={!confirm} onClick={() => void confirm?.().then(setProblem)}>
          {t("pay.card")} {amount}
        </button>
      </div>
    );
  }
  const keyId = config.data?.payments.razorpay_key_id;
  return (
    <button type="button" className="primary" disabled={!keyId} onClick={() => keyId && void razorpayCheckout(keyId, payment, orderId)}>
      {t("pay.card")} {amount}
    </button>
  );
}

function Receipt({ order }: { order: Schemas["CustomerOrderOut"] }) {
  const zone = useZone();
  const cur = (minor: number) => money(minor, order.currency);
  return (
    <section aria-labelledby="receipt">
      <h2 id="receipt">{t("orders.items")}</h2>
      <p className="meta">
        <Chip>{t(`orders.status.${order.status}`)}</Chip> {moment(order.created_at, zone)}
      </p>
      <ul className="list plain">
        {order.items.map((item) => (
          <li key={item.id}>
            {item.plan_name} · {cur(item.total_minor)}
          </li>
        ))}
      </ul>
      <dl className="totals">
        <dt>{t("orders.subtotal")}</dt>
        <dd>{cur(order.subtotal_minor)}</dd>
        <dt>{t("orders.tax")}</dt>
        <dd>{cur(order.tax_minor)}</dd>
        <dt>{t("orders.total")}</dt>
        <dd>
          <strong>{cur(order.total_minor)}</strong>
        </dd>
      </dl>
      {order.refunds.length > 0 ? (
        <>
          <h2>{t("orders.refunds")}</h2>
          <ul className="list plain">
            {order.refunds.map((r) => (
              <li key={r.id}>
                {money(r.amount_minor, r.currency)} · {t(`orders.refundStatus.${r.status}`)} · {r.reason} ·{" "}
                {day(r.settled_at ?? r.requested_at, zone)}
              </li>
            ))}
          </ul>
          {order.net_paid_minor !== null ? (
            <p>
              {t("orders.netPaid")}: <strong>{cur(order.net_paid_minor)}</strong>
            </p>
          ) : null}
        </>
      ) : null}
      {order.receipt_number ? (
        <button type="button" className="link" onClick={() => void openReceipt(order.id)}>
          {t("orders.downloadReceipt")}
        </button>
      ) : null}
    </section>
  );
}

/** The printable receipt (HTML, with the bearer token), opened in a new tab. */
async function openReceipt(orderId: string): Promise<void> {
  const response = await appSession.authedFetch(new Request(`/api/v1/orders/${orderId}/receipt`));
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  window.open(url, "_blank", "noopener");
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
