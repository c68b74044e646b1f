// Times as a person reads them, in one zone with that zone's label: the business's on staff
// screens, the customer's in their app; never the browser's own zone under another's label.
// The API sends ISO 8601 instants; the words match the server's (domain/timefmt.py):
//   moment  Sat 12 Dec 2026, 11:00 IST
//   when    Sat 12 Dec, 11:00 IST
//   clock   11:00 IST
//   day     Sat 12 Dec 2026
//   window  Sat 12 Dec, 11:00–14:00 IST

const DASH = "\u2013";
const cache = new Map<string, Intl.DateTimeFormat>();

function format(zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = zone + JSON.stringify(options);
  let found = cache.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", ...options });
    cache.set(key, found);
  }
  return found;
}

interface Parts {
  weekday: string;
  day: string;
  month: string;
  year: string;
  hour: string;
  minute: string;
  date: string; // yyyy-mm-dd on the zone's calendar
}

function parts(at: Date, zone: string): Parts {
  const out: Record<string, string> = {};
  const options: Intl.DateTimeFormatOptions = {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  };
  for (const p of format(zone, options).formatToParts(at)) out[p.type] = p.value;
  const numeric = format(zone, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(at);
  const n: Record<string, string> = {};
  for (const p of numeric) n[p.type] = p.value;
  return {
    weekday: out.weekday,
    day: out.day,
    month: out.month,
    year: out.year,
    hour: out.hour,
    minute: out.minute,
    date: `${n.year}-${n.month}-${n.day}`,
  };
}

/** The zone's short name at that moment: IST, GMT, BST, PST; a zone without one by its offset
 * (UTC+04), as the server labels it. Locales know different names (en-IN knows IST, en-US the
 * American ones): the first real name found is used. */
export function zoneLabel(at: Date, zone: string): string {
  for (const locale of ["en-IN", "en-US", "en-GB"]) {
    const name = shortName(at, zone, locale, "short");
    if (name && !/^(GMT|UTC)[+-]/.test(name)) return name;
  }
  const offset = shortName(at, zone, "en-GB", "shortOffset") ?? "GMT";
  const match = /^GMT([+-])(\d+)(?::(\d+))?$/.exec(offset);
  if (!match) return "UTC";
  return `UTC${match[1]}${match[2].padStart(2, "0")}${match[3] ? `:${match[3]}` : ""}`;
}

function shortName(
  at: Date,
  zone: string,
  locale: string,
  style: "short" | "shortOffset",
): string | undefined {
  return new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: style })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName")?.value;
}

const toDate = (iso: string | Date): Date => (typeof iso === "string" ? new Date(iso) : iso);

export function moment(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return "\u2014";
  const at = toDate(iso);
  const p = parts(at, zone);
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${zoneLabel(at, zone)}`;
}

export function when(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return "\u2014";
  const at = toDate(iso);
  const p = parts(at, zone);
  return `${p.weekday} ${p.day} ${p.month}, ${p.hour}:${p.minute} ${zoneLabel(at, zone)}`;
}

export function clock(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return "\u2014";
  const at = toDate(iso);
  const p = parts(at, zone);
  return `${p.hour}:${p.minute} ${zoneLabel(at, zone)}`;
}

export function day(iso: string | Date | null | undefined, zone: string): string {
  if (!iso) return "\u2014";
  const p = parts(toDate(iso), zone);
  return `${p.weekday} ${p.day} ${p.month} ${p.year}`;
}

/** A span: `Sat 12 Dec, 11:00–14:00 IST`; to the midnight after its start: `22:00–24:00`;
 * across midnight both days: `Sat 12 Dec, 22:00 – Sun 13 Dec, 01:00 IST`. */
export function window(start: string | Date, end: string | Date, zone: string): string {
  const a = toDate(start);
  const b = toDate(end);
  const pa = parts(a, zone);
  const pb = parts(b, zone);
  const tag = zoneLabel(b, zone);
  const head = `${pa.weekday} ${pa.day} ${pa.month}`;
  if (zoneLabel(a, zone) !== tag) {
    return `${head}, ${pa.hour}:${pa.minute} ${zoneLabel(a, zone)} ${DASH} ${pb.weekday} ${pb.day} ${pb.month}, ${pb.hour}:${pb.minute} ${tag}`;
  }
  if (pa.date === pb.date) return `${head}, ${pa.hour}:${pa.minute}${DASH}${pb.hour}:${pb.minute} ${tag}`;
  const nextDay = parts(new Date(a.getTime() + 86_400_000), zone).date;
  if (pb.date === nextDay && pb.hour === "00" && pb.minute === "00") {
    return `${head}, ${pa.hour}:${pa.minute}${DASH}24:00 ${tag}`;
  }
  return `${head}, ${pa.hour}:${pa.minute} ${DASH} ${pb.weekday} ${pb.day} ${pb.month}, ${pb.hour}:${pb.minute} ${tag}`;
}

/** The calendar date (yyyy-mm-dd) `at` falls on in `zone`. */
export function dateIn(at: string | Date, zone: string): string {
  return parts(toDate(at), zone).date;
}

/** The instant a wall-clock time (yyyy-mm-dd, HH:MM) in `zone` is, as ISO 8601 with its offset. */
export function instant(date: string, time: string, zone: string): string {
  // Guess as if UTC, then correct by the zone's offset at that moment (twice, across a change).
  const wanted = Date.parse(`${date}T${time}:00Z`);
  let guess = wanted;
  for (let i = 0; i < 2; i++) {
    const p = parts(new Date(guess), zone);
    const shown = Date.parse(`${p.date}T${p.hour}:${p.minute}:00Z`);
    guess += wanted - shown;
  }
  return new Date(guess).toISOString();
}
