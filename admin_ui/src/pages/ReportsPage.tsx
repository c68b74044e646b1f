import { Stack } from "@mantine/core";
import { PageHeader } from "../components/bits";
import { Empty } from "../components/States";

export function ReportsPage() {
  return (
    <Stack>
      <PageHeader title="Reports" />
      <Empty title="Coming next" hint="This screen lands in a later commit." />
    </Stack>
  );
}
