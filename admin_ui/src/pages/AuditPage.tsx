import { Stack } from "@mantine/core";
import { PageHeader } from "../components/bits";
import { Empty } from "../components/States";

export function AuditPage() {
  return (
    <Stack>
      <PageHeader title="Audit" />
      <Empty title="Coming next" hint="This screen lands in a later commit." />
    </Stack>
  );
}
