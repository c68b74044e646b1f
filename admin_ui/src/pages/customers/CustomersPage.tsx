import { Stack } from "@mantine/core";
import { PageHeader } from "../../components/bits";
import { Empty } from "../../components/States";

export function CustomersPage() {
  return (
    <Stack>
      <PageHeader title="Customers" />
      <Empty title="Coming next" hint="This screen lands in a later commit." />
    </Stack>
  );
}
