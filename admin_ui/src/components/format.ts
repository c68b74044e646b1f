// Formatting of money (integer minor units + ISO 4217 code, as the API sends it) and times.
import type { Schemas } from "../api/client";

type Money = Schemas["Money"];

const DIGITS: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3, OMR: 3 };

/** Minor units as money; `digits` as the API gives them (`minor_units`), else ISO 4217's. */
export function money(amountMinor: number | null | undefined, currency = "INR", digits?: number): string {
  if (amountMinor === null || amountMinor === undefined) return "—";
  digits ??= DIGITS[currency] ?? 2;
  const units = amountMinor / 10 ** digits;
  try {
    return new Intl.NumberFormat("en-IN", {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(units);
  } catch {
    return `${units.toFixed(digits)} ${currency}`;
  }
}

/** An amount as the API sends it (`Money`: minor units, ISO 4217 code, and its digits). */
export function amount(m: Money): string {
  return money(m.amount_minor, m.currency, m.minor_units);
}

/** The amount in major units (rupees, dollars), for charts. */
export function major(m: Money): number {
  return m.amount_minor / 10 ** m.minor_units;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function day(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleDateString("en-GB", { dateStyle: "medium" });
}

export function label(status: string): string {
  const text = status.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
