"""Firebase ID-token verification with firebase-admin (social and phone sign-in from the app).

`verify_id_token` checks the RS256 signature against Google's published certificates, the expiry,
the audience (our Firebase project) and the issuer. Only the project id is needed to verify; a
service-account file is used when given (other Firebase features need it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import firebase_admin
import google.auth.credentials
import google.oauth2.credentials
from firebase_admin import auth, credentials

from core.settings import Settings

APP_NAME = "homeplans"


class FirebaseTokenError(Exception):
    pass


@dataclass(frozen=True)
class FirebaseIdentity:
    uid: str
    email: str | None
    email_verified: bool
    phone: str | None
    name: str | None
    sign_in_provider: str | None


class _ProjectOnlyCredential(credentials.Base):
    """No Google account: enough for verifying ID tokens, which needs no OAuth token."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.oauth2.credentials.Credentials(token="unused")  # noqa: S106


class FirebaseVerifier:
    def __init__(self, settings: Settings) -> None:
        if not settings.firebase_project_id:
            raise ValueError("FIREBASE_PROJECT_ID is not set")
        cred = (
            credentials.Certificate(settings.firebase_credentials_file)
            if settings.firebase_credentials_file
            else _ProjectOnlyCredential()
        )
        try:
            self._app = firebase_admin.get_app(APP_NAME)
        except ValueError:
            self._app = firebase_admin.initialize_app(
                cred, options={"projectId": settings.firebase_project_id}, name=APP_NAME
            )

    async def verify(self, id_token: str) -> FirebaseIdentity:
        # The SDK is synchronous (it fetches certificates with `requests`): keep it off the loop.
        try:
            claims = await asyncio.to_thread(auth.verify_id_token, id_token, self._app)
        except (
            ValueError,
            auth.InvalidIdTokenError,
            auth.ExpiredIdTokenError,
            auth.RevokedIdTokenError,
            auth.CertificateFetchError,
            auth.UserDisabledError,
        ) as exc:
            raise FirebaseTokenError(str(exc)) from exc
        firebase = claims.get("firebase") or {}
        return FirebaseIdentity(
            uid=claims["uid"],
            email=(claims.get("email") or "").strip().lower() or None,
            email_verified=bool(claims.get("email_verified")),
            phone=claims.get("phone_number"),
            name=claims.get("name"),
            sign_in_provider=firebase.get("sign_in_provider"),
        )
