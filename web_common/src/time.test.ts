import { describe, expect, it } from "vitest";
import { clock, dateIn, day, instant, moment, when, window, zoneLabel } from "./time";

// The same words as the server's formatter (tests/service_requests/test_times_shown.py), so a screen and a
// message say one thing.
describe("times in a zone, with its label", () => {
  const late = "2026-12-12T20:30:00Z"; // already the 13th in India

  it("writes a moment in the zone asked for, not the browser's", () => {
    expect(moment(late, "Asia/Kolkata")).toBe("Sun 13 Dec 2026, 02:00 IST");
    expect(when(late, "Asia/Kolkata")).toBe("Sun 13 Dec, 02:00 IST");
    expect(clock(late, "Asia/Kolkata")).toBe("02:00 IST");
    expect(day(late, "Asia/Kolkata")).toBe("Sun 13 Dec 2026");
    expect(moment(late, "UTC")).toBe("Sat 12 Dec 2026, 20:30 UTC");
  });

  it("writes windows as the server does", () => {
    expect(window("2026-12-12T20:30Z", "2026-12-12T23:30Z", "Asia/Kolkata")).toBe("Sun 13 Dec, 02:00\u201305:00 IST");
    expect(window("2026-12-12T16:30Z", "2026-12-12T18:30Z", "Asia/Kolkata")).toBe("Sat 12 Dec, 22:00\u201324:00 IST");
    expect(window("2026-12-12T16:30Z", "2026-12-12T20:30Z", "Asia/Kolkata")).toBe(
      "Sat 12 Dec, 22:00 \u2013 Sun 13 Dec, 02:00 IST",
    );
    expect(window("2026-03-29T00:30Z", "2026-03-29T02:00Z", "Europe/London")).toBe(
      "Sun 29 Mar, 00:30 GMT \u2013 Sun 29 Mar, 03:00 BST",
    );
  });

  it("labels a zone without a short name by its offset", () => {
    expect(zoneLabel(new Date(late), "Etc/GMT-4")).toBe("UTC+04");
    expect(zoneLabel(new Date(late), "America/Los_Angeles")).toBe("PST");
  });

  it("turns a wall-clock time in a zone into the instant", () => {
    expect(instant("2026-12-13", "02:00", "Asia/Kolkata")).toBe("2026-12-12T20:30:00.000Z");
    expect(dateIn("2026-12-12T20:30:00Z", "Asia/Kolkata")).toBe("2026-12-13");
  });
});
