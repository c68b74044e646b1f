"""Activities of the accounts domain: send a verification code, record a verified contact.

Each is idempotent: the code for (challenge, n) is derived, not drawn, and its notification is keyed
`verification:<challenge>:code:<n>`, so a retry sends nothing new; marking verified is a conditional
update that a second run leaves unchanged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.settings import Settings
from domain.accounts import otp
from domain.accounts import service as accounts
from domain.contracts import (
    Channel,
    MarkVerifiedInput,
    MarkVerifiedResult,
    SendCodeInput,
    SentCode,
    VerificationPurpose,
)
from domain.notifications.kinds import Channel as NotifyChannel
from domain.notifications.service import Notifier


class AccountActivities:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        notifier: Notifier,
    ) -> None:
        self._sessions = sessions
        self._secret = settings.otp_secret.get_secret_value()
        self._notifier = notifier

    @activity.defn
    async def send_verification_code(self, inp: SendCodeInput) -> SentCode:
        code = otp.derive_code(self._secret, inp.challenge_id, inp.code_number)
        login = inp.purpose == VerificationPurpose.login
        # The code is derived here and never leaves this activity but in the message itself.
        await self._notifier.send_code(
            kind_name="account.sign_in_code" if login else "account.verification_code",
            key=f"verification:{inp.challenge_id}:code:{inp.code_number}",
            user_id=inp.user_id,
            channel=NotifyChannel.email if inp.channel == Channel.email else NotifyChannel.sms,
            destination=inp.destination,
            facts={"code": code, "minutes": max(1, inp.ttl_seconds // 60)},
            attempt=activity.info().attempt,
        )
        return SentCode(digest=otp.code_digest(self._secret, inp.user_id, inp.channel, code))

    @activity.defn
    async def mark_contact_verified(self, inp: MarkVerifiedInput) -> MarkVerifiedResult:
        async with self._sessions() as db:
            marked = await accounts.mark_contact_verified(
                db,
                user_id=inp.user_id,
                channel=inp.channel,
                destination=inp.destination,
                at=inp.verified_at,
            )
            await db.commit()
        return MarkVerifiedResult(marked=marked)
