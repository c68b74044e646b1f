"""Payment provider webhooks. The signature is verified; the event only nudges the order's
checkout, which asks the provider itself before anything moves."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import checkouts
from api.deps import PaymentsDep, SessionDep, SettingsDep, TemporalDep
from api.problems import problems
from core.errors import DomainError, NotFound
from domain.orders import ledger
from domain.orders import service as orders
from domain.payments import InvalidSignature

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger("homeplans.webhooks")


class BadSignature(DomainError):
    status = 400
    title = "Bad signature"


@router.post("/{provider}", response_class=JSONResponse, responses=problems(400, 404))
async def receive(
    provider: str,
    request: Request,
    payments: PaymentsDep,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> dict[str, str]:
    """Receive a provider's webhook (`stripe` or `razorpay`)."""
    if provider != payments.name or provider == "sandbox":
        raise NotFound(f"no {provider} webhooks are configured here")
    body = await request.body()
    try:
        event = payments.parse_webhook(request.headers, body)
    except InvalidSignature as exc:
        log.warning("rejected %s webhook: %s", provider, exc)
        raise BadSignature(f"signature does not verify: {exc}") from exc
    if not await ledger.record_webhook_event(
        db,
        provider=provider,
        event_id=event.event_id,
        event_type=event.event_type,
        provider_ref=event.provider_ref,
    ):
        return {"status": "duplicate"}
    order = None
    if event.provider_ref is not None:
        order = await orders.find_order_by_provider_ref(
            db, provider=provider, provider_ref=event.provider_ref
        )
    if order is None:
        await db.commit()
        log.info(
            "%s webhook %s (%s) concerns no order of ours",
            provider,
            event.event_id,
            event.event_type,
        )
        return {"status": "ignored"}
    # Nudge first, then remember the event: if Temporal is unreachable the 5xx makes the
    # provider deliver again, and the event is not yet marked as seen.
    await checkouts.nudge(
        temporal,
        settings,
        db,
        order_id=order.id,
        user_id=order.user_id,
        source=f"webhook:{provider}",
        event_id=event.event_id,
    )
    await db.commit()
    return {"status": "accepted"}
