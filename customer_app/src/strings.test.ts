import { describe, expect, it } from "vitest";
import { en, t } from "./strings";

describe("the words of the app", () => {
  it("fills placeholders and leaves a missing value visible", () => {
    expect(t("catalog.visits", { visits: 4 })).toBe("4 visits a year");
    expect(t("plans.visitsLeft", { left: 1 })).toBe("1 of {allowed} visits left");
  });

  it("reads words by status keys", () => {
    expect(t("visits.status.in_progress")).toBe("Work in progress");
    expect(t("orders.refundStatus.failed")).toBe(en.orders.refundStatus.failed);
  });

  it("says the key when a word is missing, never nothing", () => {
    expect(t("visits.status.unknown_status")).toBe("visits.status.unknown_status");
  });
});
