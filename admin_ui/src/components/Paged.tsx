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

/** How many pages `total` rows make at `limit` a page (at least one). */
export function pageCount(total: number, limit: number): number {
  return Math.max(1, Math.ceil(total / limit));
}

/** What a list route is asked for to show `page` (from 1): `{ limit, offset }`. */
export function pageWindow(page: number, limit: number): { limit: number; offset: number } {
  return { limit, offset: (page - 1) * limit };
}

/** The count of a list, and its pages when it has more than one. Without `limit`, `page` and
 * `onChange` (a list that comes whole), the count alone. */
export function Paged({
  total,
  limit,
  page = 1,
  onChange,
  noun,
  plural,
}: {
  total: number;
  limit?: number;
  page?: number;
  onChange?: (page: number) => void;
  noun: string;
  plural?: string;
}) {
  const pages = limit ? pageCount(total, limit) : 1;
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" data-testid="list-count">
        {count(total, noun, plural)}
      </Text>
      {pages > 1 && onChange && (
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
