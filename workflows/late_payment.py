"""LatePaymentWorkflow: a payment that moved after its order's checkout had ended.

In a module of its own, beside the checkout it follows: one workflow per module.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.checkout import CheckoutActivities
    from activities.subscriptions import SubscriptionActivities
    from core.metrics import PURCHASES, count
    from domain.contracts import FLOW_STATUS, OrderRef, SettleInput
    from domain.payments import PaymentState

from workflows.checkout import ANNOUNCE_SUBSCRIPTIONS, PROVIDER_RETRY
from workflows.policies import DB_RETRY, STEP_TIMEOUT


@workflow.defn
class LatePaymentWorkflow:
    """A provider says an order's payment moved after its checkout ended (Razorpay still accepts
    payments on an order we gave up on). Ask the provider; if the money was captured, settle the
    order after all: the customer gets what they paid for, and nothing is left unaccounted."""

    @workflow.run
    async def run(self, ref: OrderRef) -> str:
        payment = await workflow.execute_activity_method(
            CheckoutActivities.check_payment,
            ref,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
        )
        if payment.state == PaymentState.succeeded:
            await workflow.execute_activity_method(
                CheckoutActivities.settle_order,
                SettleInput(order_id=ref.order_id, payment=payment),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if workflow.patched(ANNOUNCE_SUBSCRIPTIONS):
                await workflow.execute_activity_method(
                    SubscriptionActivities.announce_order,
                    OrderRef(order_id=ref.order_id),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            workflow.upsert_search_attributes([FLOW_STATUS.value_set("settled_late")])
            count(PURCHASES, outcome="paid_late")
        return payment.state.value
