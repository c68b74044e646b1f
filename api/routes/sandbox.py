"""The sandbox payment page: the embedded default's stand-in for a provider's checkout screen.

Anyone with the session id sees what is being paid; approving or declining takes the session's
client secret, which only the payer got from `POST /checkout` (as with Stripe's `client_secret`).
The payer's link carries it in its fragment, which the browser never sends: the page's script puts
it in the forms. Approving or declining only nudges the order's checkout, which then asks the
sandbox provider, exactly as it would ask Stripe or Razorpay after a webhook.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from api import checkouts
from api.deps import PaymentsDep, SessionDep, SettingsDep, TemporalDep
from api.problems import problems
from core.errors import NotFound
from domain.money import format_money
from domain.orders import service as orders
from domain.payments import PaymentStatus
from domain.types import omit_null
from providers.payments import sandbox

router = APIRouter(prefix="/sandbox/payments", tags=["sandbox payments"])

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox payment</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}}</style></head><body>
<h1>Sandbox payment</h1>
<p>{description}</p>
<p><strong>{amount}</strong> &middot; status: <strong id="status">{status}</strong></p>
{actions}
<p><small>No money moves: this is the embedded test provider.</small></p>
</body></html>"""

# Shown only once the script has found a secret in the fragment; without one the buttons could
# only be refused.
ACTIONS = """<div id="actions" hidden>
<form method="post" action="{base}/approve" style="display:inline">
<input type="hidden" name="client_secret" value="">
<input type="hidden" name="return_to" value="" disabled>
<button type="submit">Approve</button></form>
<form method="post" action="{base}/decline" style="display:inline">
<input type="hidden" name="client_secret" value="">
<input type="hidden" name="return_to" value="" disabled>
<button type="submit">Decline</button></form></div>
<p id="no-secret">Open this page from the link your app received (with JavaScript on): only that
link can approve or decline this payment.</p>
<script>
(function () {{
  var fragment = new URLSearchParams(location.hash.slice(1));
  var secret = fragment.get("client_secret");
  if (!secret) return;
  document.querySelectorAll('input[name="client_secret"]').forEach(function (field) {{
    field.value = secret;
  }});
  // The app that sent the payer here, to go back to once they have answered.
  var back = fragment.get("return_to");
  if (back) document.querySelectorAll('input[name="return_to"]').forEach(function (field) {{
    field.value = back;
    field.disabled = false;
  }});
  document.getElementById("actions").hidden = false;
  document.getElementById("no-secret").hidden = true;
}})();
</script>"""


# Only a path of the customer app on this server: never another site (an open redirect).
RETURN_TO = r"^/app/[A-Za-z0-9/_-]*$"
BACK_TO_APP: dict[int | str, dict[str, Any]] = {
    303: {"description": "Answered: back to the app page named by return_to"}
}


class PayerForm(BaseModel):
    """What the page's Approve and Decline forms post (application/x-www-form-urlencoded)."""

    model_config = ConfigDict(extra="forbid")

    # A missing secret is refused as a wrong one is (404), not with a 422 of its own.
    client_secret: str = Field(
        "", description="The session's client secret, from the payer's `POST /checkout`"
    )
    # A form cannot send null: left out is "no page to go back to" (the document offers no null).
    return_to: str | None = Field(
        default=None,
        pattern=RETURN_TO,
        max_length=200,
        description="A page of the customer app to go back to (303) once answered",
        json_schema_extra=omit_null,
    )


def _answer(status: PaymentStatus, form: PayerForm) -> PaymentStatus | RedirectResponse:
    """Back to the app that sent the payer (only a page of this server's app), or the status."""
    if form.return_to:
        return RedirectResponse(form.return_to, status_code=303)
    return status


def _require_sandbox(payments: PaymentsDep) -> None:
    if payments.name != "sandbox":
        raise NotFound("the sandbox payment provider is not in use here")


@router.get("/{session_id}", response_class=HTMLResponse, responses=problems(404))
async def page(session_id: str, db: SessionDep, payments: PaymentsDep) -> HTMLResponse:
    """The page where a test payment is approved or declined."""
    _require_sandbox(payments)
    row = await sandbox.get_payment(db, session_id)
    if row is None:
        raise NotFound("no such sandbox payment")
    actions = (
        ACTIONS.format(base=html.escape(f"/api/v1/sandbox/payments/{row.id}"))
        if row.status == "pending"
        else ""
    )
    return HTMLResponse(
        PAGE.format(
            description=html.escape(row.description or row.reference),
            amount=html.escape(format_money(row.amount_minor, row.currency)),
            status=html.escape(row.status),
            actions=actions,
        )
    )


@router.post(
    "/{session_id}/approve",
    response_model=PaymentStatus,
    responses={**problems(404, 409), **BACK_TO_APP},
)
async def approve(
    session_id: str,
    db: SessionDep,
    payments: PaymentsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    form: Annotated[PayerForm, Form()],
) -> PaymentStatus | RedirectResponse:
    """Approve the test payment (the customer "pays"). Without its client secret, 404."""
    _require_sandbox(payments)
    status = await sandbox.approve(db, session_id, client_secret=form.client_secret)
    await db.commit()
    await _nudge(db, temporal, settings, session_id)
    return _answer(status, form)


@router.post(
    "/{session_id}/decline",
    response_model=PaymentStatus,
    responses={**problems(404, 409), **BACK_TO_APP},
)
async def decline(
    session_id: str,
    db: SessionDep,
    payments: PaymentsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    form: Annotated[PayerForm, Form()],
) -> PaymentStatus | RedirectResponse:
    """Decline the test payment (as a bank would). Without its client secret, 404."""
    _require_sandbox(payments)
    status = await sandbox.decline(
        db, session_id, "declined on the sandbox payment page", client_secret=form.client_secret
    )
    await db.commit()
    await _nudge(db, temporal, settings, session_id)
    return _answer(status, form)


async def _nudge(
    db: SessionDep, temporal: TemporalDep, settings: SettingsDep, session_id: str
) -> None:
    order = await orders.find_order_by_provider_ref(db, provider="sandbox", provider_ref=session_id)
    if order is not None:
        await checkouts.nudge(
            temporal, settings, db, order_id=order.id, user_id=order.user_id, source="sandbox"
        )
