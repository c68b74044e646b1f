// Money as the API sends it: an integer in minor units, an ISO 4217 code and (where the API says)
// the digits after the point; written with the currency's symbol, Indian grouping for INR.

const DIGITS: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3, OMR: 3 };

export interface Money {
  amount_minor: number;
  currency: string;
  minor_units: number;
}

/** Minor units as money; `digits` as the API gives them (`minor_units`), else ISO 4217's. */
export function money(amountMinor: number | null | undefined, currency = "INR", digits?: number): string {
  if (amountMinor === null || amountMinor === undefined) return "\u2014";
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
