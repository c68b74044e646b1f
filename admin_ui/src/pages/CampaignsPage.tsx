import { Stack } from "@mantine/core";
import { PageHeader } from "../components/bits";
import { Empty } from "../components/States";

export function CampaignsPage() {
  return (
    <Stack>
      <PageHeader title="Campaigns" />
      <Empty title="Coming next" hint="This screen lands in a later commit." />
    </Stack>
  );
}
