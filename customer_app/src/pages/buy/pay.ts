// Paying with the provider the server is configured with. Each hands the payer to the
// provider's own page or widget and back to this order's page, which then follows the checkout
// until the server says how it ended: the app never decides a payment by itself.
import type { Schemas } from "../../api";
import { api } from "../../api";
import { t } from "../../strings";

type Session = Schemas["PaymentSession"];

/** The sandbox (embedded test provider): its page on this server, which sends the payer back. */
export function sandboxUrl(session: Session, orderId: string): string {
  const url = new URL(session.approve_url ?? "", window.location.origin);
  const fragment = new URLSearchParams(url.hash.slice(1));
  fragment.set("return_to", `/app/orders/${orderId}`);
  // This server's page, whichever name the payer reached the app by (its cookie is per host).
  return `${url.pathname}#${fragment.toString()}`;
}

function script(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (document.querySelector(`script[src="${src}"]`)) return resolve();
    const tag = document.createElement("script");
    tag.src = src;
    tag.onload = () => resolve();
    tag.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(tag);
  });
}

interface StripeLike {
  elements(options: { clientSecret: string }): {
    create(kind: "payment"): { mount(element: HTMLElement): void };
  };
  confirmPayment(options: { elements: unknown; confirmParams: { return_url: string } }): Promise<{ error?: { message?: string } }>;
}

/** Stripe's Payment Element in `into`; the returned function confirms (Stripe may redirect). */
export async function stripeElement(publishableKey: string, session: Session, orderId: string, into: HTMLElement) {
  await script("https://js.stripe.com/v3/");
  const stripe = (window as unknown as { Stripe: (key: string) => StripeLike }).Stripe(publishableKey);
  const elements = stripe.elements({ clientSecret: session.client_secret ?? "" });
  elements.create("payment").mount(into);
  return async (): Promise<string | null> => {
    const { error } = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: `${window.location.origin}/app/orders/${orderId}` },
    });
    // Without a redirect the payment is being confirmed; the order page follows the checkout.
    if (!error) {
      void api.POST("/api/v1/orders/{order_id}/confirm", {
        params: { path: { order_id: orderId } },
        body: { payment_intent: session.provider_ref },
      });
    }
    return error?.message ?? null;
  };
}

interface RazorpayResponse {
  razorpay_payment_id: string;
  razorpay_order_id: string;
  razorpay_signature: string;
}

/** Razorpay Checkout (UPI, card, wallet); its signed answer nudges the checkout. */
export async function razorpayCheckout(keyId: string, session: Session, orderId: string): Promise<void> {
  await script("https://checkout.razorpay.com/v1/checkout.js");
  const Razorpay = (window as unknown as { Razorpay: new (options: object) => { open(): void } }).Razorpay;
  await new Promise<void>((resolve) => {
    new Razorpay({
      key: keyId,
      order_id: session.provider_ref,
      amount: session.amount_minor,
      currency: session.currency,
      name: t("app"),
      handler: async (response: RazorpayResponse) => {
        await api.POST("/api/v1/orders/{order_id}/confirm", {
          params: { path: { order_id: orderId } },
          body: {
            razorpay_payment_id: response.razorpay_payment_id,
            razorpay_order_id: response.razorpay_order_id,
            razorpay_signature: response.razorpay_signature,
          },
        });
        resolve();
      },
      modal: { ondismiss: () => resolve() },
    }).open();
  });
}
