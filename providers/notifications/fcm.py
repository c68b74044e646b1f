"""Push through Firebase Cloud Messaging (HTTP v1), with the official `firebase-admin` SDK.

Messages go out with `messaging.send_each`, which in firebase-admin 7.x makes one
`POST {FCM}/v1/projects/{project}/messages:send` per message, all at once on a thread pool of its
own (one thread per message). We hand it at most `chunk` (100) messages at a time, the size of the
connection pool the SDK keeps for FCM, so a batch of `max_batch` (500, the SDK's limit) never runs
500 threads nor opens connections it then throws away. Calls run on this provider's own thread
pool: the SDK is synchronous (requests), and its own retries of a 500/503 (up to four, with
backoff) can hold a call for seconds.

Each push carries a notification (title, body), the domain's string data, Android priority
"high" and, for Apple devices, the default sound at APNs priority 10 (shown at once).

How FCM's answers read (see `Outcome` in base.py): a message name is sent; UNREGISTERED and
SENDER_ID_MISMATCH mean the token is no longer ours to use (unregistered: the domain forgets it);
QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, a timeout, a network failure retry; INVALID_ARGUMENT and
everything else failed.

Its own firebase-admin App (named `homeplans-fcm:...`, never the identity provider's
`homeplans:...`) holds the service account of `FIREBASE_CREDENTIALS_FILE` and
`FIREBASE_PROJECT_ID`. Tests pass a `credential` (one that asks Google's token endpoint for
nothing) and set `FCM_API_URL` to a local server: see `point_messaging_at`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import firebase_admin
import google.auth.exceptions
import google.auth.transport.requests
from firebase_admin import credentials, exceptions, messaging

from core.settings import Settings
from domain.notifications.ports import Outcome, Push, Result

APP_NAME_PREFIX = "homeplans-fcm"
GOOGLE_FCM_ORIGIN = "https://fcm.googleapis.com"
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_CHUNK = 100
DEFAULT_CONCURRENCY = 4
_apps_lock = threading.Lock()
_token_lock = threading.Lock()

# The token is not (or no longer) this app's on that device: forget it.
_GONE = (messaging.UnregisteredError, messaging.SenderIdMismatchError)
# Passing: FCM's own advice is to retry these with backoff.
_PASSING = (
    messaging.QuotaExceededError,
    exceptions.ResourceExhaustedError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.AbortedError,
    exceptions.CancelledError,
    # The SDK's name for an answer it has no code for (a 502 from a proxy, a dropped connection
    # mid-answer): nothing says the message was refused.
    exceptions.UnknownError,
)


def point_messaging_at(app: firebase_admin.App, base_url: str) -> str:
    """Send this App's FCM messages to `base_url` instead of Google; returns the URL now used.

    firebase-admin has no setting for it (no FCM emulator exists). Its send URL is the private
    class attribute `messaging._MessagingService.FCM_URL` ("https://fcm.googleapis.com/v1/projects/
    {0}/messages:send"), which each App's messaging service formats once with its project id into
    its private `_fcm_url`. We change that one service's `_fcm_url`, not the class attribute: the
    class is shared by every App in the process (the identity provider's, other tests' fakes).

    This is the only code that touches those privates. It checks both exist and agree before
    changing anything, so an SDK that renames them fails here, loudly, instead of silently sending
    to Google (tests/notifications/test_provider_fcm.py pins this).
    """
    service_class = getattr(messaging, "_MessagingService", None)
    template = getattr(service_class, "FCM_URL", None)
    if not (
        isinstance(template, str)
        and template.startswith(GOOGLE_FCM_ORIGIN + "/")
        and "{0}" in template
    ):
        raise RuntimeError(
            "firebase-admin no longer has messaging._MessagingService.FCM_URL as "
            f"'{GOOGLE_FCM_ORIGIN}/...{{0}}...' (found {template!r}); FCM_API_URL cannot be applied"
        )
    service = messaging._get_messaging_service(app)
    expected = template.format(app.project_id)
    if getattr(service, "_fcm_url", None) != expected:
        raise RuntimeError(
            "firebase-admin's messaging service no longer keeps its send URL in `_fcm_url` "
            f"(expected {expected!r}); FCM_API_URL cannot be applied"
        )
    url = base_url.rstrip("/") + template[len(GOOGLE_FCM_ORIGIN) :].format(app.project_id)
    service._fcm_url = url
    return url


def _app(
    project_id: str,
    credentials_file: str | None,
    credential: credentials.Base | None,
    api_url: str | None,
    timeout: float,
) -> firebase_admin.App:
    """This configuration's App: made once, shared by every FcmPush with the same configuration.

    Everything that makes the App differ is in its name: the project, the service account (its
    file, or the very credential object a test passed; the App keeps that object alive, so its id
    is never reused), where it sends and its timeout.
    """
    who = (
        f"object:{id(credential)}"
        if credential is not None
        else os.path.abspath(credentials_file or "")
    )
    key = json.dumps([project_id, who, api_url or "", timeout])
    name = f"{APP_NAME_PREFIX}:{project_id}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    with _apps_lock:
        try:
            return firebase_admin.get_app(name)
        except ValueError:
            pass
        if credential is None:
            if not credentials_file:
                raise ValueError("FIREBASE_CREDENTIALS_FILE is not set")
            credential = credentials.Certificate(credentials_file)
        app = firebase_admin.initialize_app(
            credential, options={"projectId": project_id, "httpTimeout": timeout}, name=name
        )
        if api_url:
            try:
                point_messaging_at(app, api_url)
            except Exception:
                firebase_admin.delete_app(app)
                raise
        return app


def message(push: Push) -> messaging.Message:
    """The FCM message of one push."""
    return messaging.Message(
        token=push.token,
        notification=messaging.Notification(title=push.title, body=push.body),
        data=dict(push.data) or None,
        android=messaging.AndroidConfig(priority="high"),
        apns=messaging.APNSConfig(
            headers={"apns-priority": "10"},
            payload=messaging.APNSPayload(aps=messaging.Aps(sound="default")),
        ),
    )


class FcmPush:
    name = "fcm"
    max_batch = 500  # send_each's own limit

    def __init__(
        self,
        settings: Settings,
        *,
        credential: credentials.Base | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        chunk: int = DEFAULT_CHUNK,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        """`credential`: for tests (a `credentials.Base` that asks Google for no token); without
        it, the service account in `FIREBASE_CREDENTIALS_FILE`."""
        if not settings.firebase_project_id:
            raise ValueError("FIREBASE_PROJECT_ID is not set")
        if not 1 <= chunk <= self.max_batch:
            raise ValueError(f"chunk must be 1..{self.max_batch}")
        self.project_id = settings.firebase_project_id
        self._chunk = chunk
        self._timeout = timeout
        self._app = _app(
            settings.firebase_project_id,
            settings.firebase_credentials_file,
            credential,
            settings.fcm_api_url,
            timeout,
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fcm")

    @property
    def app(self) -> firebase_admin.App:
        return self._app

    async def send(self, pushes: Sequence[Push]) -> list[Outcome]:
        if len(pushes) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} pushes per call, got {len(pushes)}")
        if not pushes:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._send_all, list(pushes))

    def close(self) -> None:
        """Let the pool's threads go (they also end with the process)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- in a pool thread ------------------------------------------------------------------------

    def _send_all(self, pushes: list[Push]) -> list[Outcome]:
        problem = self._ensure_access_token()
        if problem is not None:
            return [Outcome.retry(problem)] * len(pushes)
        outcomes: list[Outcome] = []
        for start in range(0, len(pushes), self._chunk):
            outcomes.extend(self._send_chunk(pushes[start : start + self._chunk]))
        return outcomes

    def _ensure_access_token(self) -> str | None:
        """Refresh the App's OAuth token once, here, when it is missing or about to expire.

        Left to itself, each of send_each's threads finds the token missing and fetches its own
        (ten token requests for one batch of a hundred, seen against the fake). And a refresh that
        fails inside send_each fails the whole call after some messages went. Returns why there
        is no token (nothing sent; try later), or None.
        """
        google_credential = self._app.credential.get_credential()
        if google_credential.valid:
            return None
        with _token_lock:
            if google_credential.valid:
                return None
            try:
                google_credential.refresh(_TimedRequest(self._timeout))
            except google.auth.exceptions.GoogleAuthError as exc:
                return f"FCM credential has no access token: {type(exc).__name__}: {exc}"
        return None

    def _send_chunk(self, pushes: list[Push]) -> list[Outcome]:
        try:
            batch = messaging.send_each([message(p) for p in pushes], app=self._app)
        except ValueError as exc:
            # The SDK checks every message before it sends any: one malformed push (an empty
            # token, say) refuses the whole list. Send them one by one, so only it fails.
            if len(pushes) == 1:
                return [Outcome.failed(f"not sendable: {exc}")]
            return [outcome for push in pushes for outcome in self._send_chunk([push])]
        except exceptions.FirebaseError as exc:
            # send_each's own failure, not a message's: something other than an HTTP error in one
            # of its threads (its pool; a token refresh after a 401). It drops every result, so
            # some of these may have gone; retrying them is at least once, as activities are.
            return [Outcome.retry(f"FCM: {_describe(exc)}")] * len(pushes)
        return [_outcome(response) for response in batch.responses]


class _TimedRequest(google.auth.transport.requests.Request):
    """google-auth's HTTP transport for token refreshes, with our timeout (its own is 120 s)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        return super().__call__(
            url,
            method=method,
            body=body,
            headers=headers,
            timeout=timeout or self._timeout,
            **kwargs,
        )


def _outcome(response: Any) -> Outcome:
    if response.success:
        return Outcome.sent(str(response.message_id))
    exc = response.exception
    reason = f"FCM: {_describe(exc)}"
    if isinstance(exc, _GONE):
        return Outcome(Result.unregistered, reason=reason[:300])
    if isinstance(exc, _PASSING):
        return Outcome.retry(reason)
    return Outcome.failed(reason)


def _describe(exc: BaseException) -> str:
    """The SDK's error type and code, and FCM's message ("UnregisteredError (NOT_FOUND): Requested
    entity was not found."); FCM's messages name the field at fault, never the token."""
    code = getattr(exc, "code", None)
    kind = type(exc).__name__ + (f" ({code})" if code else "")
    text = str(exc).strip()
    return f"{kind}: {text}" if text else kind
