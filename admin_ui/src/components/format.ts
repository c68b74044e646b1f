// Formatting of money (integer minor units + ISO 4217 code, as the API sends it) and times.

const DIGITS: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3, OMR: 3 };

export function money(amountMinor: number | null | undefined, currency = "INR"): string {
  if (amountMinor === null || amountMinor === undefined) return "—";
  const digits = DIGITS[currency] ?? 2;
  const major = amountMinor / 10 ** digits;
  try {
    return new Intl.NumberFormat("en-IN", {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${currency}`;
  }
}

/** An amount in whatever shape an aggregate carries it: minor units, {amount_minor, currency},
 * or a list of them (one per currency). */
export function anyMoney(value: unknown, currency = "INR"): string {
  if (typeof value === "number") return money(value, currency);
  if (Array.isArray(value)) return value.length ? value.map((v) => anyMoney(v, currency)).join(" + ") : money(0, currency);
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    const minor = (v.amount_minor ?? v.minor ?? v.amount) as number | undefined;
    return money(minor ?? 0, (v.currency as string) ?? currency);
  }
  return "—";
}

/** The amount in minor units of the same shapes (for charts). */
export function minorOf(value: unknown): number {
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + minorOf(v), 0);
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    return Number(v.amount_minor ?? v.minor ?? v.amount ?? 0);
  }
  return 0;
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
