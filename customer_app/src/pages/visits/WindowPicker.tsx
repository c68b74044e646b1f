// Choosing when a visit happens: a day (the next two weeks) and one of its free slots, which
// the API works out from who can come (GET /service-requests/free-windows).
import { dateIn } from "@homeplans/web-common/time";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api";
import { useZone } from "../../auth";
import { t } from "../../strings";
import { Empty, Pending, Select } from "../../ui";

export interface Chosen {
  start: string;
  end: string;
}

function nextDays(zone: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(dateIn(new Date(Date.now() + i * 86_400_000), zone));
  return [...new Set(out)];
}

export function WindowPicker({
  subscriptionId,
  categoryId,
  day,
  onDay,
  value,
  onChange,
}: {
  subscriptionId: string;
  categoryId: string;
  day: string;
  onDay: (day: string) => void;
  value: Chosen | null;
  onChange: (chosen: Chosen | null) => void;
}) {
  const zone = useZone();
  const days = nextDays(zone, 14);
  const windows = useQuery({
    queryKey: ["free-windows", subscriptionId, categoryId, day],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/service-requests/free-windows", {
          params: { query: { subscription_id: subscriptionId, category_id: categoryId, day } },
        }),
      ),
    enabled: !!subscriptionId && !!categoryId && !!day,
  });
  const label = (d: string) =>
    new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(
      new Date(`${d}T00:00:00Z`),
    );
  const free = windows.data?.filter((w) => w.free) ?? [];
  return (
    <>
      <Select label={t("visits.day")} value={day} onChange={(e) => onDay(e.target.value)}>
        {days.map((d) => (
          <option key={d} value={d}>
            {label(d)}
          </option>
        ))}
      </Select>
      {!windows.data ? (
        <Pending query={windows} />
      ) : free.length === 0 ? (
        <Empty>{t("visits.noSlots")}</Empty>
      ) : (
        <fieldset className="slots">
          <legend>{t("visits.slot")}</legend>
          {free.map((w) => (
            <label key={w.start} className="slot">
              <input
                type="radio"
                name="slot"
                checked={value?.start === w.start}
                onChange={() => onChange({ start: w.start, end: w.end })}
              />
              {w.label.split(", ").slice(1).join(", ") || w.label}
            </label>
          ))}
        </fieldset>
      )}
    </>
  );
}
