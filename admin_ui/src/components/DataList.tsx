// A list of records that reads on every screen: a table at a desk, cards on a phone (< 48em),
// where each column is a labelled line and the row's actions span the card's width. No minimum
// widths: nothing sits off-screen, no button is cut. Rows keep their test id in both shapes.
import { Card, Group, Stack, Table, Text, VisuallyHidden } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import type { ReactNode } from "react";

export type Column<T> = {
  /** The column's header at a desk and the line's label on a phone. */
  label: string;
  render: (row: T) => ReactNode;
  /** On a phone, the card's title line (no label); the first column when none says so. */
  primary?: boolean;
};

export const PHONE_QUERY = "(max-width: 48em)";

/** True on a phone-sized screen, known on the first render (no flash of a table). */
export function usePhone(): boolean {
  return useMediaQuery(PHONE_QUERY, false, { getInitialValueInEffect: false }) ?? false;
}

export function DataList<T>({
  rows,
  columns,
  rowKey,
  actions,
  testId,
  rowTestId,
  caption,
}: {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  /** The row's buttons and links: the last column at a desk, the card's foot on a phone. */
  actions?: (row: T) => ReactNode;
  testId?: string;
  rowTestId?: string;
  /** What the list is, for a screen reader (the table's caption, the card list's label). */
  caption: string;
}) {
  const phone = usePhone();
  if (phone) {
    const primary = columns.find((c) => c.primary) ?? columns[0];
    return (
      <Stack gap="sm" data-testid={testId} role="list" aria-label={caption}>
        {rows.map((row) => (
          <Card key={rowKey(row)} withBorder padding="sm" role="listitem" data-testid={rowTestId}>
            <Stack gap={4}>
              <Text fw={600} component="div">{primary.render(row)}</Text>
              {columns
                .filter((c) => c !== primary)
                .map((c) => (
                  <Group key={c.label} gap="xs" wrap="nowrap" align="start">
                    <Text size="sm" c="dimmed" w={110} style={{ flexShrink: 0 }}>
                      {c.label}
                    </Text>
                    <Text size="sm" component="div" style={{ minWidth: 0, overflowWrap: "anywhere" }}>
                      {c.render(row)}
                    </Text>
                  </Group>
                ))}
              {actions && (
                <Group gap="xs" mt={4} grow>
                  {actions(row)}
                </Group>
              )}
            </Stack>
          </Card>
        ))}
      </Stack>
    );
  }
  return (
    <Table striped data-testid={testId} verticalSpacing="xs" aria-label={caption}>
      <Table.Thead>
        <Table.Tr>
          {columns.map((c) => (
            <Table.Th key={c.label}>{c.label}</Table.Th>
          ))}
          {actions && (
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          )}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((row) => (
          <Table.Tr key={rowKey(row)} data-testid={rowTestId}>
            {columns.map((c) => (
              <Table.Td key={c.label}>{c.render(row)}</Table.Td>
            ))}
            {actions && (
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  {actions(row)}
                </Group>
              </Table.Td>
            )}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
