// The support inbox's words: what a callback is about, how a call went, how one was closed, and
// how long someone has waited ("2 h 5 min").
import type { Schemas } from "../../api/client";

export const REASONS: Record<Schemas["CallbackReason"], string> = {
  billing: "Billing",
  service: "A visit",
  plan: "A plan",
  account: "Their account",
  other: "Something else",
};

export const CALL_OUTCOMES: Record<Schemas["CallOutcome"], string> = {
  reached: "Reached them",
  no_answer: "No answer",
  busy: "The line was busy",
  voicemail: "Left a voicemail",
  wrong_number: "Wrong number",
  failed: "The call did not go through",
};

export const CLOSE_OUTCOMES: Record<Schemas["CallbackOutcome"], string> = {
  resolved: "Resolved",
  unreachable: "Could not reach them",
  not_needed: "No longer needed",
  duplicate: "A duplicate of another callback",
};

export const STATUSES: Record<Schemas["CallbackStatus"], string> = {
  open: "Waiting",
  taken: "Taken",
  closed: "Closed",
  cancelled: "Cancelled by the customer",
};

export const STATUS_COLORS: Record<Schemas["CallbackStatus"], "orange" | "blue" | "gray" | "dark"> = {
  open: "orange",
  taken: "blue",
  closed: "gray",
  cancelled: "dark",
};

export function options<K extends string>(words: Record<K, string>): { value: K; label: string }[] {
  return (Object.keys(words) as K[]).map((value) => ({ value, label: words[value] }));
}

/** How long from `since` to `until` (or now): `4 min`, `2 h 5 min`, `3 days 4 h`. */
export function waited(since: string, until?: string | null, now: number = Date.now()): string {
  const minutes = Math.max(0, Math.floor(((until ? Date.parse(until) : now) - Date.parse(since)) / 60_000));
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return `${days} ${days === 1 ? "day" : "days"}${hours % 24 ? ` ${hours % 24} h` : ""}`;
}

/** How long a callback has waited, or waited before it was closed or cancelled. */
export function waitedFor(c: Pick<Schemas["AdminCallbackOut"], "created_at" | "closed_at" | "cancelled_at">): string {
  const end = c.closed_at ?? c.cancelled_at;
  return end ? `waited ${waited(c.created_at, end)}` : `waiting ${waited(c.created_at)}`;
}
