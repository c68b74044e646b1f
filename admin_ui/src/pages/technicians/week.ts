// A technician's week of working hours as the API takes it ({"mon": [["09:00", "18:00"]], ...}),
// the days' names, and the week in a few words (the server's `hours_summary`).
import type { Schemas } from "../../api/client";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type DayKey = (typeof DAYS)[number];
export type Interval = [string, string];
export type Week = Record<DayKey, Interval[]>;

/** A technician as the API answers it (the hours' pairs arrive as plain arrays). */
export type TechnicianView = Omit<Schemas["TechnicianOut"], "working_hours"> & { working_hours: Record<DayKey, string[][]> };

export const DAY_NAMES: Record<DayKey, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

const SHORT: Record<DayKey, string> = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };
const DASH = "\u2013";

/** Monday to Friday 09:00–18:00, Saturday 10:00–14:00: where a new technician starts. */
export const USUAL_WEEK: Week = {
  mon: [["09:00", "18:00"]],
  tue: [["09:00", "18:00"]],
  wed: [["09:00", "18:00"]],
  thu: [["09:00", "18:00"]],
  fri: [["09:00", "18:00"]],
  sat: [["10:00", "14:00"]],
  sun: [],
};

export function weekOf(hours: Record<DayKey, readonly (readonly string[])[]>): Week {
  return Object.fromEntries(DAYS.map((d) => [d, (hours[d] ?? []).map(([a, b]) => [a, b] as Interval)])) as Week;
}

/** `Mon–Fri 09:00–18:00, Sat 10:00–14:00`; `No working hours` for an empty week. */
export function summary(week: Week): string {
  const groups: { first: number; last: number; key: string }[] = [];
  DAYS.forEach((d, i) => {
    const key = week[d].map(([a, b]) => `${a}${DASH}${b}`).join(" and ");
    const last = groups[groups.length - 1];
    if (last && last.key === key && last.last === i - 1) last.last = i;
    else groups.push({ first: i, last: i, key });
  });
  const parts = groups
    .filter((g) => g.key)
    .map((g) => `${SHORT[DAYS[g.first]]}${g.last !== g.first ? DASH + SHORT[DAYS[g.last]] : ""} ${g.key}`);
  return parts.length ? parts.join(", ") : "No working hours";
}

/** yyyy-mm-dd `n` days after `date`. */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
