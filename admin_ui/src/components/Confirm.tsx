// A risky action behind a confirmation that states its impact ("Sends to 1,204 customers"): the
// button opens a dialog; only its confirm button acts.
import { Button, Group, Modal, Stack, Text, type ButtonProps } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ReactNode } from "react";

export function ConfirmButton({
  children,
  title,
  impact,
  confirmLabel,
  onConfirm,
  loading,
  danger = true,
  ...button
}: ButtonProps & {
  children: ReactNode;
  title: string;
  /** What happens, in numbers where there are any: "Sends to 1,204 customers." */
  impact: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  loading?: boolean;
  danger?: boolean;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button {...button} onClick={open} loading={loading}>
        {children}
      </Button>
      <Modal opened={opened} onClose={close} title={title} closeButtonProps={{ "aria-label": "Close" }}>
        <Stack>
          <Text data-testid="confirm-impact">{impact}</Text>
          <Group justify="end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              color={danger ? "red" : undefined}
              onClick={() => {
                close();
                onConfirm();
              }}
            >
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
