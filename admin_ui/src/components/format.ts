// Formatting of money (web_common/src/money.ts) and times (web_common/src/time.ts): every time in
// the business's zone with its label, whatever the browser's zone (a dispatcher abroad, a laptop
// on UTC). The zone is the server's (GET /api/v1/app/config), set once before the panel renders.
import { clock as clockIn, dateIn, day as dayIn, instant, moment, window as windowIn } from "@homeplans/web-common/time";

export { amount, major, money } from "@homeplans/web-common/money";

let businessZone = "Asia/Kolkata";

export function setZone(zone: string): void {
  businessZone = zone;
}

export function zone(): string {
  return businessZone;
}

/** `Sat 12 Dec 2026, 11:00 IST`. */
export function when(iso: string | null | undefined): string {
  return moment(iso, businessZone);
}

/** `Sat 12 Dec 2026`. */
export function day(iso: string | null | undefined): string {
  return dayIn(iso, businessZone);
}

/** `Sat 12 Dec, 11:00–14:00 IST`. */
export function span(start: string, end: string): string {
  return windowIn(start, end, businessZone);
}

/** `11:00 IST`. */
export function clock(iso: string | null | undefined): string {
  return clockIn(iso, businessZone);
}

/** The business day (yyyy-mm-dd) an instant falls on; today's when none is given. */
export function businessDate(iso?: string | Date): string {
  return dateIn(iso ?? new Date(), businessZone);
}

/** The instant a business day (yyyy-mm-dd) starts, for a period's `since`/`until`. */
export function dayStart(date: string): string {
  return instant(date, "00:00", businessZone);
}

export function label(status: string): string {
  const text = status.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
