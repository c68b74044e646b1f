// Payments' words: how a payment was made ("Stripe · card", "Sandbox": never "sandbox · sandbox"),
// its status as staff say it, and the choices of the list's filters.
import type { Schemas } from "../../api/client";

export const PROVIDERS: Record<string, string> = { sandbox: "Sandbox", stripe: "Stripe", razorpay: "Razorpay" };
export const METHODS: Record<string, string> = { card: "card", upi: "UPI", wallet: "wallet", netbanking: "net banking" };
export const STATUSES: Record<Schemas["PaymentStatusView"], string> = {
  pending: "Waiting for payment",
  succeeded: "Paid",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
  failed: "Failed",
  expired: "Expired unpaid",
};

export const STATUS_COLORS: Record<Schemas["PaymentStatusView"], "orange" | "teal" | "grape" | "gray" | "red"> = {
  pending: "orange",
  succeeded: "teal",
  partially_refunded: "grape",
  refunded: "gray",
  failed: "red",
  expired: "gray",
};

/** `Stripe · card`, `Razorpay · UPI`, `Sandbox`. */
export function paidWith(provider: string, method: string | null | undefined): string {
  const name = PROVIDERS[provider] ?? provider.charAt(0).toUpperCase() + provider.slice(1);
  const how = method ? METHODS[method] : undefined;
  return how ? `${name} · ${how}` : name;
}
