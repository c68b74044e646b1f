"""A local FCM HTTP v1 API (and OAuth token endpoint) for the real `firebase-admin` SDK.

    with FakeFcm() as fcm:
        push = FcmPush(Settings(..., **fcm.settings()), credential=fcm.credential())
        fcm.fail_with("token-gone", "UNREGISTERED")        # FCM's canned error for that token
        fcm.respond_for("token-x", *fcm_error("UNAVAILABLE"), times=2)  # (status, body)
        ...  # send
        fcm.messages             # the `message` objects accepted, in arrival order
        fcm.requests             # all: Recorded(method, path, params=<JSON body>, headers)

What firebase-admin 7.7's `messaging.send_each` sends: one
`POST /v1/projects/{project}/messages:send` per message (concurrently, from its own threads),
body `{"message": {"token", "notification", "data", "android", "apns"}}` (plus
`"validate_only": true` on a dry run), with `Authorization: Bearer <access token>`,
`X-GOOG-API-FORMAT-VERSION: 2` and `X-FIREBASE-CLIENT`. Not FCM's `/batch` endpoint (gone).
Success is a 200 `{"name": "projects/{project}/messages/{id}"}`; an error is Google's JSON error,
whose `details` carry FCM's own `errorCode` (which the SDK turns into UnregisteredError, ...).

Credentials, two ways, neither reaching Google:
- `credential()`: a `credentials.Base` with the fixed access token `ACCESS_TOKEN` (FcmPush's
  `credential=` argument);
- `service_account(path)` / `settings(path)`: a real service-account JSON (a fresh RSA key) whose
  `token_uri` is this server's `POST /token`. firebase-admin then does exactly what it does in
  production (signs a JWT assertion, trades it for an access token), so `FcmPush(settings)` with
  no test hook works, and `notification_providers(settings)` end to end.

A request with another bearer token is a 401 UNAUTHENTICATED; another project's path a 403.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl

import google.auth.credentials
import google.oauth2.credentials
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import credentials

from tests.support.fakes import FakeServer, Recorded, Response, _Handler, json_response, random_id
from tests.support.fakes import _Server as _FakeHttpServer

PROJECT_ID = "homeplans-test"
ACCESS_TOKEN = "ya29.fake-access-token-0123456789"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth addresses every service-account assertion to Google's endpoint, whatever token_uri.
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

# FCM's error codes, each with the HTTP status, Google status and message FCM answers it with.
FCM_ERRORS: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": (
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests' of service 'fcm.googleapis.com'.",
    ),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}


def fcm_error(code: str, message: str | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of FCM's answer for one of its error codes (FCM_ERRORS)."""
    status, google_status, default_message = FCM_ERRORS[code]
    return status, google_error(
        status,
        google_status,
        message or default_message,
        details=[{"@type": FCM_ERROR_TYPE, "errorCode": code}],
    )


def google_error(
    status: int, google_status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Google's JSON error: {"error": {"code", "message", "status", "details"}}."""
    error: dict[str, Any] = {"code": status, "message": message, "status": google_status}
    if details is not None:
        error["details"] = details
    return {"error": error}


class FixedTokenCredential(credentials.Base):
    """A firebase-admin credential whose access token is fixed: no call to any token endpoint."""

    def __init__(self, token: str = ACCESS_TOKEN) -> None:
        self._credential = google.oauth2.credentials.Credentials(token=token)

    def get_credential(self) -> google.auth.credentials.Credentials:
        return self._credential


@dataclass
class _Script:
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None
    delay: float


class _Server(_FakeHttpServer):
    """send_each opens up to a hundred connections at once: a listen backlog to match."""

    request_queue_size = 256


class FakeFcm(FakeServer):
    def __init__(self, project_id: str = PROJECT_ID) -> None:
        super().__init__()
        self.project_id = project_id
        self.access_tokens = {ACCESS_TOKEN}  # those a request may carry
        self.token_grants: list[dict[str, Any]] = []  # verified JWT assertions traded at /token
        self._keys: dict[str, rsa.RSAPublicKey] = {}  # service accounts' keys, by client_email
        self._scripts: dict[str, _Script] = {}

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    # --- test controls ---------------------------------------------------------------------------

    @property
    def send_path(self) -> str:
        return f"/v1/projects/{self.project_id}/messages:send"

    def credential(self) -> FixedTokenCredential:
        return FixedTokenCredential(ACCESS_TOKEN)

    def service_account(self, path: Path | str) -> Path:
        """Write a service-account JSON for this project whose token endpoint is this server."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        account = f"firebase-adminsdk-{random_id('', 5).lower()}"
        email = f"{account}@{self.project_id}.iam.gserviceaccount.com"
        with self.lock:
            self._keys[email] = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        target = Path(path)
        target.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": self.project_id,
                    "private_key_id": random_id("", 40).lower(),
                    "private_key": pem,
                    "client_email": email,
                    "client_id": "1" + random_id("", 20),
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        return target

    def settings(self, credentials_file: Path | str | None = None) -> dict[str, Any]:
        """Settings fields that send push here with the real provider. With a path, a service
        account is written there (FcmPush(settings) needs no test hook); without one, pass
        `credential()` to FcmPush and keep PUSH_PROVIDER as it is."""
        values: dict[str, Any] = {"firebase_project_id": self.project_id, "fcm_api_url": self.url}
        if credentials_file is not None:
            values["push_provider"] = "fcm"
            values["firebase_credentials_file"] = str(self.service_account(credentials_file))
        return values

    def respond_for(
        self,
        token: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer messages to `token` with `status` and `body` (JSON), always or for the next
        `times` requests (then the default, success, again)."""
        with self.lock:
            self._scripts[token] = _Script(status, body, headers or {}, times, delay)

    def fail_with(self, token: str, code: str, *, times: int | None = None) -> None:
        """Answer messages to `token` with FCM's error `code` (a key of FCM_ERRORS)."""
        status, body = fcm_error(code)
        self.respond_for(token, status, body, times=times)

    def reset(self) -> None:
        with self.lock:
            self._scripts.clear()
            self.requests.clear()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The `message` objects FCM accepted, in arrival order."""
        with self.lock:
            return [r.params["message"] for r in self.requests if r.extra.get("accepted")]

    def requests_for(self, token: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.extra.get("token") == token]

    # --- the API ---------------------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if (method, path) == ("POST", "/token"):
            return self._token(headers, body)
        try:
            params: Any = json.loads(body) if body else {}
        except ValueError:
            params = {"_raw": body.decode("utf-8", "replace")}
        recorded = Recorded(method=method, path=path, params=params, headers=headers)
        message = params.get("message") if isinstance(params, dict) else None
        token = message.get("token") if isinstance(message, dict) else None
        if isinstance(token, str):
            recorded.extra["token"] = token
        with self.lock:
            self.requests.append(recorded)
        if method != "POST" or not path.endswith("/messages:send"):
            return json_response(404, google_error(404, "NOT_FOUND", f"{method} {path}"))
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            known = bearer in self.access_tokens
        if not known:
            return json_response(
                401,
                google_error(
                    401,
                    "UNAUTHENTICATED",
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                ),
            )
        if path != self.send_path:
            return json_response(
                403,
                google_error(
                    403,
                    "PERMISSION_DENIED",
                    "Permission 'cloudmessaging.messages.create' denied on resource",
                ),
            )
        if not isinstance(token, str) or not token:
            status, error = fcm_error("INVALID_ARGUMENT", "Request contains an invalid argument.")
            return json_response(status, error)
        with self.lock:
            script = self._scripts.get(token)
            if script is not None and script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    del self._scripts[token]
        if script is not None:
            if script.delay:
                time.sleep(script.delay)
            if not 200 <= script.status < 300:
                return json_response(script.status, script.body, script.headers)
        name = f"projects/{self.project_id}/messages/0:{random_id('', 16)}"
        with self.lock:
            recorded.extra["accepted"] = True
            recorded.extra["name"] = name
        answer = script.body if script is not None and script.body is not None else {"name": name}
        return json_response(200, answer, script.headers if script is not None else None)

    def _token(self, headers: dict[str, str], body: bytes) -> Response:
        """Google's OAuth 2 token endpoint for a service account's JWT-bearer grant."""
        form = dict(parse_qsl(body.decode()))
        invalid = json_response(400, {"error": "invalid_grant", "error_description": "bad JWT"})
        if form.get("grant_type") != JWT_BEARER or "assertion" not in form:
            return invalid
        assertion = form["assertion"]
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            with self.lock:
                key = self._keys.get(str(unverified.get("iss")))
            if key is None:
                return invalid
            claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=TOKEN_AUDIENCE)
        except jwt.PyJWTError:
            return invalid
        access_token = f"ya29.{random_id('', 40)}"
        with self.lock:
            self.token_grants.append(claims)
            self.access_tokens.add(access_token)
        return json_response(
            200, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}
        )
