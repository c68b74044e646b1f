"""Firebase ID-token verification with firebase-admin (social and phone sign-in from the app): the
`domain.identity.IdentityVerifier` of this system, and the only importer of the SDK for sign-in.

`verify_id_token` checks the RS256 signature against Google's published certificates, the expiry,
the audience (our Firebase project) and the issuer. Only the project id is needed to verify; a
service-account file is used when given (other Firebase features need it).

Each configuration (project id, credentials file) gets its own firebase-admin App, so two
`Settings` in one process (tests, a multi-tenant tool) never verify against each other's project.
With `FIREBASE_AUTH_EMULATOR_HOST` set the SDK checks no signature and no expiry, so production
refuses to start (or verify) with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from typing import Any

import firebase_admin
import google.auth.credentials
import google.oauth2.credentials
from firebase_admin import auth, credentials

from core.settings import Settings
from domain.identity import FirebaseIdentity, FirebaseTokenError, FirebaseUnavailable
from domain.types import normalize_phone

APP_NAME_PREFIX = "homeplans"
EMULATOR_HOST_ENV = "FIREBASE_AUTH_EMULATOR_HOST"
# Google's clock and ours differ by a little: without leeway a token used the second it was issued
# can fail with "Token used too early". Ten seconds is negligible next to the token's hour.
CLOCK_SKEW_SECONDS = 10
_MAX_REASON = 300
_apps_lock = threading.Lock()


class _ProjectOnlyCredential(credentials.Base):
    """No Google account: enough for verifying ID tokens, which needs no OAuth token."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.oauth2.credentials.Credentials(token="unused")  # noqa: S106


def app_name(project_id: str, credentials_file: str | None) -> str:
    """The firebase-admin App name of one configuration: different configs, different apps."""
    name = f"{APP_NAME_PREFIX}:{project_id}"
    if credentials_file:
        path = os.path.abspath(credentials_file)
        name += ":" + hashlib.sha256(path.encode()).hexdigest()[:16]
    return name


def _emulated() -> bool:
    return bool(os.environ.get(EMULATOR_HOST_ENV))


class FirebaseVerifier:
    def __init__(self, settings: Settings) -> None:
        if not settings.firebase_project_id:
            raise ValueError("FIREBASE_PROJECT_ID is not set")
        self._production = settings.environment == "production"
        if self._production and _emulated():
            raise ValueError(
                f"{EMULATOR_HOST_ENV} is set: firebase-admin would accept unsigned tokens; "
                "it must not be set in production"
            )
        self.project_id = settings.firebase_project_id
        name = app_name(settings.firebase_project_id, settings.firebase_credentials_file)
        with _apps_lock:
            try:
                self._app = firebase_admin.get_app(name)
            except ValueError:
                cred = (
                    credentials.Certificate(settings.firebase_credentials_file)
                    if settings.firebase_credentials_file
                    else _ProjectOnlyCredential()
                )
                self._app = firebase_admin.initialize_app(
                    cred, options={"projectId": settings.firebase_project_id}, name=name
                )

    async def verify(self, id_token: str) -> FirebaseIdentity:
        if self._production and _emulated():
            raise FirebaseUnavailable("Firebase sign-in is misconfigured on this server")
        # The SDK is synchronous (it fetches certificates with `requests`): keep it off the loop.
        try:
            claims = await asyncio.to_thread(
                auth.verify_id_token, id_token, self._app, clock_skew_seconds=CLOCK_SKEW_SECONDS
            )
        except auth.CertificateFetchError as exc:
            raise FirebaseUnavailable(
                "Firebase sign-in is unavailable right now (Google's signing keys could not be "
                "fetched); try again shortly"
            ) from exc
        except auth.ExpiredIdTokenError as exc:
            raise FirebaseTokenError("the token has expired; sign in again") from exc
        except (ValueError, auth.InvalidIdTokenError, auth.UserDisabledError) as exc:
            raise FirebaseTokenError(_reason(exc, id_token)) from exc
        return _identity(claims)


def _identity(claims: dict[str, Any]) -> FirebaseIdentity:
    firebase = claims.get("firebase")
    provider = firebase.get("sign_in_provider") if isinstance(firebase, dict) else None
    email = claims.get("email")
    phone = claims.get("phone_number")
    name = claims.get("name")
    return FirebaseIdentity(
        uid=claims["uid"],
        email=(email.strip().lower() or None) if isinstance(email, str) else None,
        # Only a JSON `true` counts: a string "false" is truthy in Python.
        email_verified=claims.get("email_verified") is True,
        phone=_phone(phone) if isinstance(phone, str) and phone.strip() else None,
        name=(name.strip()[:200] or None) if isinstance(name, str) else None,
        sign_in_provider=provider if isinstance(provider, str) else None,
    )


def _phone(value: str) -> str:
    """E.164 as our accounts store it (Firebase sends E.164; normalising guards the lookup)."""
    try:
        return normalize_phone(value)
    except ValueError:
        return value.strip()


def _reason(exc: Exception, id_token: str) -> str:
    """The SDK's reason, without echoing the token back, and of bounded length."""
    reason = str(exc)
    for echoed in (repr(id_token.encode("utf-8", "replace")), id_token):
        if echoed:
            reason = reason.replace(echoed, "<token>")
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 1] + "…"
    return reason
