// What an admin does with a draft before anyone is sent it: see its message as a customer will
// (the email, the phone's notification, the app's inbox), send it to themselves as a test, and
// start it behind a confirmation that says how many customers it goes to.
import { Button, Divider, Modal, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { ConfirmButton } from "../../components/Confirm";
import { count } from "../../components/Paged";
import { Loaded } from "../../components/Loaded";
import { keys } from "../../queryKeys";

type Campaign = Schemas["CampaignOut"];

const CLOSE = { "aria-label": "Close" };
const CHANNELS: Record<string, string> = { email: "by email", push: "to your phone", in_app: "to your inbox in the app" };

function listed(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

export function MessagePreviewView({ campaignId }: { campaignId: string }) {
  const shown = useQuery({
    queryKey: keys.campaigns.message(campaignId),
    queryFn: () => unwrap(api.GET("/api/v1/admin/campaigns/{campaign_id}/message", { params: { path: { campaign_id: campaignId } } })),
  });
  return (
    <Loaded query={shown} what="the message" retry={false}>
      {(m) => (
        <Stack gap="md" data-testid="message-preview">
          <div>
            <Title order={3} size="h5" mb={4}>Email</Title>
            <Paper withBorder p="md">
              <Text fw={700} mb="xs">{m.subject}</Text>
              {m.paragraphs.map((p, i) => <Text key={i} size="sm" mb="xs">{p}</Text>)}
              <Divider my="xs" />
              {m.email_foot.map((line) => <Text key={line} size="xs" c="dimmed">{line}</Text>)}
            </Paper>
          </div>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <div>
              <Title order={3} size="h5" mb={4}>Phone notification</Title>
              <Paper withBorder p="sm" radius="lg">
                <Text size="xs" c="dimmed">HomePlans</Text>
                <Text size="sm" fw={600}>{m.push_title}</Text>
                <Text size="sm" lineClamp={3}>{m.push_body}</Text>
              </Paper>
            </div>
            <div>
              <Title order={3} size="h5" mb={4}>Inbox in the app</Title>
              <Paper withBorder p="sm">
                <Text size="sm" fw={600}>{m.subject}</Text>
                <Text size="sm" lineClamp={2}>{m.paragraphs[0]}</Text>
              </Paper>
            </div>
          </SimpleGrid>
          <Text size="xs" c="dimmed">Email and phone notifications go only to customers who asked for offers; the inbox to everyone who has not turned offers off.</Text>
        </Stack>
      )}
    </Loaded>
  );
}

export function PreviewButton({ campaign }: { campaign: Campaign }) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button size="xs" variant="default" onClick={open} aria-label={`Preview “${campaign.title}”`}>Preview</Button>
      <Modal opened={opened} onClose={close} title={`What customers see: “${campaign.title}”`} size="lg" closeButtonProps={{ "aria-label": "Close" }}>
        {opened && <MessagePreviewView campaignId={campaign.id} />}
      </Modal>
    </>
  );
}

export function TestSendButton({ campaign }: { campaign: Campaign }) {
  const test = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/campaigns/{campaign_id}/test", { params: { path: { campaign_id: campaign.id } } })),
    onSuccess: (sent) => {
      const where = listed(sent.channels.map((c) => (c === "email" && sent.email ? `by email to ${sent.email}` : CHANNELS[c] ?? c)));
      notifications.show({ color: "green", message: `Test sent to you alone: it comes ${where}.`, closeButtonProps: CLOSE });
    },
    onError: (e: { detail?: string }) => notifications.show({ color: "red", message: `The test was not sent: ${e.detail ?? "try again."}`, closeButtonProps: CLOSE }),
  });
  return (
    <Button size="xs" variant="default" onClick={() => test.mutate()} loading={test.isPending} aria-label={`Send me a test of “${campaign.title}”`}>
      Send me a test
    </Button>
  );
}

export function StartButton({ campaign, onStart, loading }: { campaign: Campaign; onStart: () => void; loading: boolean }) {
  const size = useQuery({
    queryKey: keys.campaigns.audience(campaign.id),
    queryFn: () => unwrap(api.GET("/api/v1/admin/campaigns/{campaign_id}/audience", { params: { path: { campaign_id: campaign.id } } })),
  });
  const impact = size.isPending
    ? "Counting the audience…"
    : size.isError
      ? "The audience could not be counted; it is frozen as it is when you start."
      : size.data.size === 0
        ? "Nobody is in this audience now: nobody would be sent it."
        : `Sends to ${count(size.data.size, "customer")}. Who joins the audience later is not sent it, and a started campaign cannot be taken back.`;
  return (
    <ConfirmButton
      size="xs"
      danger={false}
      title={`Start “${campaign.title}”?`}
      impact={impact}
      confirmLabel="Start sending"
      onConfirm={onStart}
      loading={loading}
      aria-label={`Start “${campaign.title}”`}
    >
      Start
    </ConfirmButton>
  );
}
