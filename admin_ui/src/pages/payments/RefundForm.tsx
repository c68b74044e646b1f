// Refund a payment, in full or in part. The amount is not capped by the form: what the API refuses
// (more than is left to refund) is shown at the Amount field, in its words.
import { Alert, Card, Group, NumberInput, Stack, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { api, unwrap, type Schemas } from "../../api/client";
import type { Problem } from "../../api/session";
import { ConfirmButton } from "../../components/Confirm";
import { applyFieldErrors } from "../../components/fieldErrors";
import { money } from "../../components/format";
import { keys } from "../../queryKeys";

type Form = { amount: number | ""; reason: string };

export function RefundForm({ payment }: { payment: Schemas["PaymentDetailOut"] }) {
  const queries = useQueryClient();
  const [problems, setProblems] = useState<string[]>([]);
  const scale = 10 ** payment.minor_units; // minor units per major one: 100 paise to the rupee
  const form = useForm<Form>({ defaultValues: { amount: payment.refundable_minor / scale, reason: "" } });
  const amount = form.watch("amount");
  const reason = form.watch("reason");
  const minor = typeof amount === "number" ? Math.round(amount * scale) : 0;
  const who = payment.customer.name ?? "the customer";
  const refund = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/admin/orders/{order_id}/refunds", {
        params: { path: { order_id: payment.order_id } },
        body: { amount_minor: minor, reason: reason.trim() },
      })),
    onSuccess: () => {
      notifications.show({ color: "green", message: "Refund asked for: the payment provider confirms it shortly.", closeButtonProps: { "aria-label": "Close" } });
      form.reset({ amount: "", reason: "" });
      setProblems([]);
      void queries.invalidateQueries({ queryKey: keys.payments.all });
    },
    onError: (e: Problem) => {
      form.clearErrors();
      setProblems(applyFieldErrors(e, form.setError, ["amount", "reason"], (f) => (f === "amount_minor" ? "amount" : f)));
    },
  });
  const shown = money(minor, payment.currency, payment.minor_units);
  return (
    <Card withBorder data-testid="refund-form">
      <Title order={2} size="h4" mb="xs">Refund</Title>
      <Stack gap="xs">
        <Text size="sm">
          Left to refund: <b>{money(payment.refundable_minor, payment.currency, payment.minor_units)}</b> of{" "}
          {money(payment.amount_minor, payment.currency, payment.minor_units)} paid.
        </Text>
        <NumberInput
          label="Amount"
          decimalScale={payment.minor_units}
          min={0}
          thousandSeparator=","
          value={amount}
          onChange={(v) => { form.setValue("amount", typeof v === "number" ? v : ""); form.clearErrors("amount"); }}
          error={form.formState.errors.amount?.message}
        />
        <Textarea
          label="Reason"
          description="Kept for staff and in the audit log; the customer is told it came from support."
          autosize
          minRows={2}
          {...form.register("reason")}
          error={form.formState.errors.reason?.message}
        />
        {problems.length > 0 && <Alert color="red" role="alert">{problems.join("; ")}</Alert>}
        <Group justify="end">
          <ConfirmButton
            color="red"
            variant="outline"
            title="Refund this payment?"
            impact={`Pays ${shown} back to ${who} the way they paid. It cannot be undone.`}
            confirmLabel={`Refund ${shown}`}
            onConfirm={() => refund.mutate()}
            loading={refund.isPending}
            disabled={minor <= 0 || reason.trim().length < 3}
          >
            Refund
          </ConfirmButton>
        </Group>
      </Stack>
    </Card>
  );
}
