// Periods of business days (yyyy-mm-dd in the business's zone, both ends included): today as the
// business sees it (not the browser), the presets, and a day as people read it.
import { dateIn } from "@homeplans/web-common/time";
import { day, dayStart, zone } from "../../components/format";

export type Period = { since: string; until: string };
export type Preset = "today" | "7d" | "30d" | "month";

export const PRESETS: { value: Preset; label: string }[] = [
  { value: "today", label: "Today" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "month", label: "This month" },
];

/** Today's date in the business's zone. */
export function today(now: Date = new Date()): string {
  return dateIn(now, zone());
}

/** `date` moved by `days` (calendar arithmetic on the date alone). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function preset(which: Preset, now: Date = new Date()): Period {
  const until = today(now);
  if (which === "today") return { since: until, until };
  if (which === "7d") return { since: addDays(until, -6), until };
  if (which === "month") return { since: `${until.slice(0, 8)}01`, until };
  return { since: addDays(until, -29), until };
}

/** Which preset a period is, if any. */
export function presetOf(period: Period, now: Date = new Date()): Preset | null {
  return PRESETS.find((p) => {
    const made = preset(p.value, now);
    return made.since === period.since && made.until === period.until;
  })?.value ?? null;
}

/** `Sat 12 Dec 2026`: a business day as people read it. */
export function dayLabel(date: string): string {
  return day(dayStart(date));
}

/** `12 Dec`: a business day on a chart's axis. */
export function shortDay(date: string): string {
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" }).format(new Date(`${date}T12:00:00Z`));
}

/** `Sat 1 Nov 2026 – Sun 30 Nov 2026`, or one day. */
export function periodLabel(p: Period): string {
  return p.since === p.until ? dayLabel(p.since) : `${dayLabel(p.since)} – ${dayLabel(p.until)}`;
}
