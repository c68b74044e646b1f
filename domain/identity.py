"""Identities proven by an outside identity provider (Firebase: social and phone sign-in from the
app), as the domain sees them: who the provider says the person is, the verifier's interface and
the errors it raises.

The provider (`providers/identity/firebase.py`, on firebase-admin) implements `IdentityVerifier`;
the composition root builds it (`providers.identity.identity_verifier`) and hands it to
`domain.accounts.auth.Authenticator`, so the domain never imports a provider or its SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.errors import Unavailable


class FirebaseTokenError(Exception):
    """The ID token is not one our Firebase project issued and that is still valid."""


class FirebaseUnavailable(Unavailable):
    """Verification could not run (Google's certificates unreachable): not the caller's fault."""


@dataclass(frozen=True)
class FirebaseIdentity:
    uid: str
    email: str | None
    email_verified: bool
    phone: str | None
    name: str | None
    sign_in_provider: str | None


class IdentityVerifier(Protocol):
    async def verify(self, id_token: str) -> FirebaseIdentity:
        """The identity an ID token proves. `FirebaseTokenError` when the token is not valid
        (forged, expired, another project's); `FirebaseUnavailable` when it cannot be checked
        now."""
        ...
