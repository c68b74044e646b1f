// A week of working hours, day by day: up to four stretches a day (a break splits one), each
// "from" and "until" in HH:MM (24:00 ends a day); a day with none is a day off. Every input and
// button is named with its day, so a screen reader (and a test) knows which is which.
import { Button, Group, Stack, Text, TextInput } from "@mantine/core";
import { DAY_NAMES, DAYS, type DayKey, type Week } from "./week";

const MAX_A_DAY = 4;

export function HoursEditor({
  value,
  onChange,
  errors,
  disabled,
}: {
  value: Week;
  onChange: (week: Week) => void;
  errors?: Partial<Record<DayKey, string>>;
  disabled?: boolean;
}) {
  const setDay = (day: DayKey, intervals: Week[DayKey]) => onChange({ ...value, [day]: intervals });
  return (
    <Stack gap="sm" data-testid="hours-editor">
      {DAYS.map((day) => {
        const name = DAY_NAMES[day];
        const intervals = value[day];
        return (
          <Stack key={day} gap={4} data-testid={`hours-${day}`}>
            <Group gap="sm" wrap="wrap" align="center">
              <Text fw={600} w={100}>
                {name}
              </Text>
              {intervals.length === 0 && (
                <Text size="sm" c="dimmed">
                  Day off
                </Text>
              )}
              {intervals.map(([from, until], i) => {
                const which = intervals.length > 1 ? ` (${i + 1})` : "";
                const set = (at: 0 | 1, text: string) =>
                  setDay(
                    day,
                    intervals.map((iv, j) => (j === i ? ((at === 0 ? [text, iv[1]] : [iv[0], text]) as [string, string]) : iv)),
                  );
                return (
                  <Group key={i} gap={4} wrap="nowrap" align="center">
                    <TextInput
                      aria-label={`${name} from${which}`}
                      value={from}
                      onChange={(e) => set(0, e.currentTarget.value)}
                      placeholder="09:00"
                      maxLength={5}
                      inputMode="numeric"
                      w={72}
                      disabled={disabled}
                    />
                    <Text aria-hidden>–</Text>
                    <TextInput
                      aria-label={`${name} until${which}`}
                      value={until}
                      onChange={(e) => set(1, e.currentTarget.value)}
                      placeholder="18:00"
                      maxLength={5}
                      inputMode="numeric"
                      w={72}
                      disabled={disabled}
                    />
                    {!disabled && (
                      <Button
                        variant="subtle"
                        color="gray"
                        size="compact-sm"
                        aria-label={`Remove ${name} ${from}–${until}`}
                        onClick={() => setDay(day, intervals.filter((_, j) => j !== i))}
                      >
                        ×
                      </Button>
                    )}
                  </Group>
                );
              })}
              {!disabled && intervals.length < MAX_A_DAY && (
                <Button
                  variant="light"
                  size="compact-sm"
                  aria-label={`Add hours on ${name}`}
                  onClick={() => {
                    const last = intervals[intervals.length - 1];
                    setDay(day, [...intervals, last ? [last[1], last[1] < "18:00" ? "18:00" : "24:00"] : ["09:00", "18:00"]]);
                  }}
                >
                  Add hours
                </Button>
              )}
            </Group>
            {errors?.[day] && (
              <Text size="sm" c="red.9" role="alert">
                {name}: {errors[day]}
              </Text>
            )}
          </Stack>
        );
      })}
    </Stack>
  );
}
