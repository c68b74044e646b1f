"""One-time codes, derived instead of stored.

The code for a challenge's n-th send is an HMAC of (challenge, n) under the server's OTP secret, so
a retried send activity sends the very same code, and nothing stores the code itself. The workflow
compares digests (HMAC of user, channel and code), so Temporal history never holds a usable code.
"""

from __future__ import annotations

import uuid

from core.security import hmac_hex
from domain.contracts import Channel

CODE_DIGITS = 6


def derive_code(secret: str, challenge_id: uuid.UUID, code_number: int) -> str:
    mac = hmac_hex(secret, f"otp-code:{challenge_id}:{code_number}")
    return str(int(mac[:15], 16) % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def code_digest(secret: str, user_id: uuid.UUID, channel: Channel, code: str) -> str:
    return hmac_hex(secret, f"otp-digest:{user_id}:{channel.value}:{code.strip()}")
