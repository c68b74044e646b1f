// A list's count and its pages: "1 payment", "25 payments"; every arrow and page number named
// for a screen reader ("Next page", "Page 3").
import { Group, Pagination, Text } from "@mantine/core";

/** `1 payment`, `2 payments`, `1 category`, `3 categories`. */
export function count(n: number, noun: string, plural?: string): string {
  const many = plural ?? (noun.endsWith("y") && !/[aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`);
  return `${n.toLocaleString("en-IN")} ${n === 1 ? noun : many}`;
}

const CONTROLS: Record<string, string> = {
  first: "First page",
  previous: "Previous page",
  next: "Next page",
  last: "Last page",
};

export function Paged({
  total,
  limit,
  page,
  onChange,
  noun,
  plural,
}: {
  total: number;
  limit: number;
  page: number;
  onChange: (page: number) => void;
  noun: string;
  plural?: string;
}) {
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" data-testid="list-count">
        {count(total, noun, plural)}
      </Text>
      {pages > 1 && (
        <Pagination
          total={pages}
          value={page}
          onChange={onChange}
          siblings={0}
          getControlProps={(control) => ({ "aria-label": CONTROLS[control] ?? control })}
          getItemProps={(p) => ({ "aria-label": `Page ${p}`, "aria-current": p === page ? "page" : undefined })}
        />
      )}
    </Group>
  );
}
