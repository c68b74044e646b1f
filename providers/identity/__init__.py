"""Identity providers: Firebase ID tokens (firebase-admin), on when FIREBASE_PROJECT_ID is set.
They implement `domain.identity.IdentityVerifier`."""

from __future__ import annotations

from core.settings import Settings
from domain.identity import IdentityVerifier


def identity_verifier(settings: Settings) -> IdentityVerifier | None:
    """The verifier the settings name, None when Firebase sign-in is off (firebase-admin is
    imported only when it is on)."""
    if not settings.firebase_project_id:
        return None
    from providers.identity.firebase import FirebaseVerifier

    return FirebaseVerifier(settings)


__all__ = ["identity_verifier"]
