"""CampaignTestWorkflow (`campaign:{id}:test:{test id}`): a campaign's message sent once to the
admin who asked for a test, through the one send activity every message takes (its words read
from the campaign, the admin's own channels and choices). It ends when the message has gone."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notifications import SEND
    from domain.campaigns.contracts import (
        CAMPAIGN_TEST_WORKFLOW,
        TEST_KIND,
        TestSend,
        campaign_test_key,
    )
    from domain.notifications.contracts import Send, Sent, To
    from workflows.notify import SEND_RETRY, SEND_TIMEOUT


@workflow.defn(name=CAMPAIGN_TEST_WORKFLOW)
class CampaignTestWorkflow:
    @workflow.run
    async def run(self, test: TestSend) -> Sent:
        return await workflow.execute_activity(
            SEND,
            Send(
                kind=TEST_KIND,
                key=campaign_test_key(test.campaign_id, test.test_id),
                to=To(user_id=test.staff_id),
                refs={"campaign_id": str(test.campaign_id)},
            ),
            result_type=Sent,
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=SEND_RETRY,
        )
