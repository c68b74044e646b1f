"""The FCM push provider, with the real `firebase-admin` SDK against a local FCM
(tests/support/fake_fcm.py): what goes over the wire, how each answer reads, and the one place
where the SDK is pointed away from Google.

Imports only providers and settings (no database, no Temporal).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import firebase_admin
import pytest
from firebase_admin import messaging

from core.settings import Settings
from domain.notifications.ports import Push, Result
from providers.identity.firebase import FirebaseVerifier
from providers.notifications import notification_providers
from providers.notifications.fcm import (
    APP_NAME_PREFIX,
    GOOGLE_FCM_ORIGIN,
    FcmPush,
    point_messaging_at,
)
from tests.support.fake_fcm import (
    ACCESS_TOKEN,
    FCM_ERRORS,
    PROJECT_ID,
    FakeFcm,
    fcm_error,
    google_error,
)

SDK_FCM_URL = "https://fcm.googleapis.com/v1/projects/{0}/messages:send"

# firebase-admin 7.7 deprecates Message.token for Message.fid (Firebase installation ids); the
# app registers FCM registration tokens, which FCM v1 still takes as `token`.
pytestmark = pytest.mark.filterwarnings("ignore:Message.token is deprecated:DeprecationWarning")


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def push(token: str, n: int = 1, **overrides: Any) -> Push:
    values: dict[str, Any] = {
        "delivery_id": f"delivery-{n}",
        "token": token,
        "title": f"Technician assigned ({n})",
        "body": "Ravi will visit on Monday at 10:00.",
        "data": {"kind": "request_assigned", "request_id": f"req-{n}"},
    }
    values.update(overrides)
    return Push(**values)


def rename_service_account(path: Path, client_email: str) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), "client_email": client_email}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[FakeFcm]:
    with FakeFcm() as server:
        yield server


@pytest.fixture
def provider(fake: FakeFcm) -> Iterator[FcmPush]:
    sender = FcmPush(settings(**fake.settings()), credential=fake.credential())
    yield sender
    sender.close()


# --- the request --------------------------------------------------------------------------------


async def test_a_push_is_one_v1_messages_send_with_notification_and_data(
    fake: FakeFcm, provider: FcmPush
) -> None:
    [outcome] = await provider.send([push("device-token-1")])

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", f"/v1/projects/{PROJECT_ID}/messages:send")
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["x-goog-api-format-version"] == "2"
    assert request.headers["x-firebase-client"].startswith("fire-admin-python/")
    assert request.params == {
        "message": {
            "token": "device-token-1",
            "notification": {
                "title": "Technician assigned (1)",
                "body": "Ravi will visit on Monday at 10:00.",
            },
            "data": {"kind": "request_assigned", "request_id": "req-1"},
            "android": {"priority": "high"},
            "apns": {"headers": {"apns-priority": "10"}, "payload": {"aps": {"sound": "default"}}},
        }
    }
    assert outcome.result is Result.sent
    assert outcome.provider_message_id == request.extra["name"]
    assert str(outcome.provider_message_id).startswith(f"projects/{PROJECT_ID}/messages/")


async def test_a_push_without_data_sends_no_data(fake: FakeFcm, provider: FcmPush) -> None:
    [outcome] = await provider.send([push("device-token-1", data={})])

    assert outcome.result is Result.sent
    [message] = fake.messages
    assert "data" not in message


# --- how answers read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected", "reason"),
    [
        ("UNREGISTERED", Result.unregistered, "FCM: UnregisteredError (NOT_FOUND): "),
        ("SENDER_ID_MISMATCH", Result.unregistered, "FCM: SenderIdMismatchError (PERMISSION"),
        ("QUOTA_EXCEEDED", Result.retry, "FCM: QuotaExceededError (RESOURCE_EXHAUSTED): "),
        ("INVALID_ARGUMENT", Result.failed, "FCM: InvalidArgumentError (INVALID_ARGUMENT): "),
    ],
)
async def test_each_fcm_error_reads_as_an_outcome(
    fake: FakeFcm, provider: FcmPush, code: str, expected: Result, reason: str
) -> None:
    fake.fail_with("device-token-1", code)

    [outcome] = await provider.send([push("device-token-1")])

    assert outcome.result is expected
    assert outcome.reason is not None
    assert outcome.reason.startswith(reason)
    assert FCM_ERRORS[code][2] in outcome.reason
    assert "device-token-1" not in outcome.reason
    assert outcome.provider_message_id is None
    # Not retried by the SDK: one request.
    assert len(fake.requests_for("device-token-1")) == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # Google's plain errors, without FCM's errorCode detail.
        (404, google_error(404, "NOT_FOUND", "Requested entity was not found."), Result.failed),
        (429, google_error(429, "RESOURCE_EXHAUSTED", "Too many requests."), Result.retry),
        (403, google_error(403, "PERMISSION_DENIED", "Permission denied."), Result.failed),
        # A proxy's 502 has no code the SDK knows (UnknownError): nothing says it was refused.
        (502, {"oops": "bad gateway"}, Result.retry),
    ],
)
async def test_google_errors_without_an_fcm_code(
    fake: FakeFcm, provider: FcmPush, status: int, body: Any, expected: Result
) -> None:
    fake.respond_for("device-token-1", status, body)

    [outcome] = await provider.send([push("device-token-1")])

    assert outcome.result is expected


async def test_500_and_503_are_retried_by_the_sdk_then_by_us(
    fake: FakeFcm, provider: FcmPush
) -> None:
    # firebase-admin's own retry policy (urllib3): up to 4 more tries of a 500 or 503, backoff
    # 0, 1, 2, 4 s. So a push answered 503 twice still goes; one that stays down is ours to retry.
    fake.fail_with("always-503", "UNAVAILABLE")
    fake.fail_with("always-500", "INTERNAL")
    fake.fail_with("twice-503", "UNAVAILABLE", times=2)

    outcomes = await provider.send([push("always-503"), push("always-500"), push("twice-503")])

    assert [o.result for o in outcomes] == [Result.retry, Result.retry, Result.sent]
    assert (outcomes[0].reason or "").startswith("FCM: UnavailableError (UNAVAILABLE): ")
    assert (outcomes[1].reason or "").startswith("FCM: InternalError (INTERNAL): ")
    assert len(fake.requests_for("always-503")) == 5
    assert len(fake.requests_for("always-500")) == 5
    assert len(fake.requests_for("twice-503")) == 3


async def test_a_mixed_batch_keeps_its_order_across_chunks(fake: FakeFcm) -> None:
    codes = ["UNREGISTERED", "SENDER_ID_MISMATCH", "QUOTA_EXCEEDED", "INVALID_ARGUMENT"]
    expected_by_code = {
        "UNREGISTERED": Result.unregistered,
        "SENDER_ID_MISMATCH": Result.unregistered,
        "QUOTA_EXCEEDED": Result.retry,
        "INVALID_ARGUMENT": Result.failed,
    }
    expected: list[Result] = []
    for n in range(23):
        if n % 3 == 0:
            code = codes[(n // 3) % len(codes)]
            fake.fail_with(f"token-{n}", code)
            expected.append(expected_by_code[code])
        else:
            expected.append(Result.sent)
    # Chunks of 5: five send_each calls, each concurrent inside.
    sender = FcmPush(settings(**fake.settings()), credential=fake.credential(), chunk=5)
    try:
        outcomes = await sender.send([push(f"token-{n}", n) for n in range(23)])
    finally:
        sender.close()

    assert [o.result for o in outcomes] == expected
    names = {r.extra["token"]: r.extra.get("name") for r in fake.requests}
    for n, outcome in enumerate(outcomes):
        assert outcome.provider_message_id == names[f"token-{n}"]


async def test_a_full_batch_of_500(fake: FakeFcm, provider: FcmPush) -> None:
    for n in range(0, 500, 50):
        fake.fail_with(f"token-{n}", "UNREGISTERED")

    started = time.monotonic()
    outcomes = await provider.send([push(f"token-{n}", n) for n in range(500)])
    elapsed = time.monotonic() - started

    assert [o.result for o in outcomes] == [
        Result.unregistered if n % 50 == 0 else Result.sent for n in range(500)
    ]
    assert len(fake.requests) == 500
    assert [m["token"] for m in fake.messages if m["token"] == "token-1"] == ["token-1"]
    print(f"500 pushes through send_each in chunks of 100: {elapsed:.2f} s")


async def test_more_than_max_batch_is_refused(provider: FcmPush) -> None:
    with pytest.raises(ValueError, match="at most 500"):
        await provider.send([push(f"t{n}") for n in range(501)])
    assert await provider.send([]) == []


async def test_a_push_the_sdk_refuses_fails_alone(fake: FakeFcm, provider: FcmPush) -> None:
    # firebase-admin checks every message before sending any: an empty token would refuse the
    # whole list. The provider then sends one by one, so only the bad push fails.
    bad_data = push("token-3", 3, data={"count": 3})  # FCM data must be strings

    outcomes = await provider.send([push("token-1"), push(""), bad_data, push("token-4", 4)])

    assert [o.result for o in outcomes] == [
        Result.sent,
        Result.failed,
        Result.failed,
        Result.sent,
    ]
    assert outcomes[1].reason == "not sendable: Message.token must be a non-empty string."
    assert "Message.data" in (outcomes[2].reason or "")
    assert sorted(m["token"] for m in fake.messages) == ["token-1", "token-4"]


async def test_a_refused_connection_is_retried_later() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sender = FcmPush(
        settings(firebase_project_id=PROJECT_ID, fcm_api_url=url), credential=FakeFcm().credential()
    )
    try:
        outcomes = await sender.send([push("token-1"), push("token-2")])
    finally:
        sender.close()

    assert [o.result for o in outcomes] == [Result.retry, Result.retry]
    assert (outcomes[0].reason or "").startswith("FCM: UnavailableError (UNAVAILABLE): ")


async def test_a_slow_answer_times_out_and_is_retried(fake: FakeFcm) -> None:
    fake.respond_for("token-1", 200, delay=2.0)
    sender = FcmPush(settings(**fake.settings()), credential=fake.credential(), timeout=0.3)
    try:
        started = time.monotonic()
        [outcome] = await sender.send([push("token-1")])
        elapsed = time.monotonic() - started
    finally:
        sender.close()

    assert outcome.result is Result.retry
    # After its one retry of a read timeout, requests calls it a connection error.
    assert (outcome.reason or "").startswith("FCM: UnavailableError (UNAVAILABLE): ")
    assert "Read timed out" in (outcome.reason or "")
    assert len(fake.requests_for("token-1")) == 2
    assert elapsed < 1.8


# --- credentials and the App --------------------------------------------------------------------


async def test_the_service_account_file_is_used_as_in_production(
    fake: FakeFcm, tmp_path: Path
) -> None:
    # No test hook: FIREBASE_CREDENTIALS_FILE holds a service account whose token_uri is the
    # fake; firebase-admin signs its JWT assertion and trades it for an access token there.
    providers = notification_providers(settings(**fake.settings(tmp_path / "sa.json")))
    assert providers.push.name == "fcm"
    assert providers.email.name == "outbox"

    outcomes = await providers.push.send([push(f"token-{n}", n) for n in range(100)])

    assert {o.result for o in outcomes} == {Result.sent}
    # One token for the hundred: FcmPush refreshes it before send_each's threads need it (left
    # to themselves, several of them fetch their own at once).
    [grant] = fake.token_grants
    assert grant["iss"].endswith(f"@{PROJECT_ID}.iam.gserviceaccount.com")
    assert "https://www.googleapis.com/auth/firebase" in grant["scope"].split()
    issued = fake.access_tokens - {ACCESS_TOKEN}
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {t}" for t in issued}
    assert isinstance(providers.push, FcmPush)
    providers.push.close()


async def test_a_token_fcm_stops_taking_is_renewed_by_google_auth(
    fake: FakeFcm, tmp_path: Path
) -> None:
    sender = FcmPush(settings(**fake.settings(tmp_path / "sa.json")))
    try:
        assert [o.result for o in await sender.send([push("token-1")])] == [Result.sent]
        fake.access_tokens.clear()  # FCM now answers 401 UNAUTHENTICATED to the token it gave

        [outcome] = await sender.send([push("token-2", 2)])
    finally:
        sender.close()

    # google-auth's session refreshes on a 401 and sends again.
    assert outcome.result is Result.sent
    assert len(fake.token_grants) == 2
    assert [r.extra["token"] for r in fake.requests] == ["token-1", "token-2", "token-2"]


async def test_an_apns_auth_error_fails_after_google_auth_tried_new_tokens(
    fake: FakeFcm, tmp_path: Path
) -> None:
    # THIRD_PARTY_AUTH_ERROR is a 401: google-auth takes any 401 for an expired token, gets a new
    # one and sends again (twice), then the SDK reads FCM's code.
    fake.fail_with("ios-token", "THIRD_PARTY_AUTH_ERROR")
    sender = FcmPush(settings(**fake.settings(tmp_path / "sa.json")))
    try:
        [outcome] = await sender.send([push("ios-token")])
    finally:
        sender.close()

    assert outcome.result is Result.failed
    assert (outcome.reason or "").startswith("FCM: ThirdPartyAuthError (UNAUTHENTICATED): ")
    assert len(fake.requests_for("ios-token")) == 3
    assert len(fake.token_grants) == 3


async def test_a_401_with_a_credential_that_cannot_refresh_fails_the_whole_call(
    fake: FakeFcm, provider: FcmPush
) -> None:
    # With a fixed token (tests' credential()), google-auth's refresh after a 401 raises inside
    # send_each, which then drops every result of the call: all of them are retried.
    fake.fail_with("token-2", "THIRD_PARTY_AUTH_ERROR")

    outcomes = await provider.send([push("token-1"), push("token-2", 2)])

    assert [o.result for o in outcomes] == [Result.retry, Result.retry]
    assert "refresh" in (outcomes[0].reason or "")


async def test_a_token_endpoint_that_refuses_sends_nothing_and_retries(
    fake: FakeFcm, tmp_path: Path
) -> None:
    values = fake.settings(tmp_path / "sa.json")
    # A service account the token endpoint does not know: it answers invalid_grant.
    rename_service_account(Path(values["firebase_credentials_file"]), "stranger@x.example")
    sender = FcmPush(settings(**values))
    try:
        outcomes = await sender.send([push("token-1"), push("token-2", 2)])
    finally:
        sender.close()

    assert [o.result for o in outcomes] == [Result.retry, Result.retry]
    assert (outcomes[0].reason or "").startswith("FCM credential has no access token: RefreshError")
    assert fake.requests == []


def test_fcm_needs_a_project_and_a_service_account() -> None:
    with pytest.raises(ValueError, match="FIREBASE_PROJECT_ID and FIREBASE_CREDENTIALS_FILE"):
        settings(push_provider="fcm", firebase_project_id=PROJECT_ID)
    with pytest.raises(ValueError, match="FIREBASE_PROJECT_ID"):
        FcmPush(settings())
    with pytest.raises(ValueError, match="FIREBASE_CREDENTIALS_FILE"):
        FcmPush(settings(firebase_project_id="no-file-project"))


def test_its_app_is_not_the_identity_providers(fake: FakeFcm, provider: FcmPush) -> None:
    verifier = FirebaseVerifier(settings(firebase_project_id=PROJECT_ID))
    identity_app = firebase_admin.get_app(verifier._app.name)

    assert provider.app.name.startswith(f"{APP_NAME_PREFIX}:{PROJECT_ID}:")
    assert provider.app is not identity_app
    assert not identity_app.name.startswith(APP_NAME_PREFIX)
    # Same configuration, same App; the identity App's messaging still points at Google.
    again = FcmPush(settings(**fake.settings()), credential=provider.app.credential)
    assert again.app is provider.app
    again.close()
    assert messaging._get_messaging_service(identity_app)._fcm_url == SDK_FCM_URL.format(PROJECT_ID)


async def test_two_fakes_in_one_process_each_get_their_own_messages() -> None:
    with FakeFcm() as first, FakeFcm() as second:
        a = FcmPush(settings(**first.settings()), credential=first.credential())
        b = FcmPush(settings(**second.settings()), credential=second.credential())
        try:
            await a.send([push("to-first")])
            await b.send([push("to-second")])
        finally:
            a.close()
            b.close()
        assert [m["token"] for m in first.messages] == ["to-first"]
        assert [m["token"] for m in second.messages] == ["to-second"]


# --- the one private thing: where firebase-admin sends ------------------------------------------


def test_firebase_admin_still_keeps_its_send_url_where_we_change_it() -> None:
    """If this fails, firebase-admin moved its FCM URL: fix `point_messaging_at` (the one place
    that knows) before FCM_API_URL can work again; production (no FCM_API_URL) is unaffected."""
    assert messaging._MessagingService.FCM_URL == SDK_FCM_URL
    assert SDK_FCM_URL.startswith(GOOGLE_FCM_ORIGIN + "/")
    app = firebase_admin.initialize_app(
        FakeFcm().credential(), options={"projectId": "url-probe"}, name="test-fcm-url-probe"
    )
    try:
        service = messaging._get_messaging_service(app)
        assert service._fcm_url == SDK_FCM_URL.format("url-probe")
        assert point_messaging_at(app, "http://127.0.0.1:9/") == (
            "http://127.0.0.1:9/v1/projects/url-probe/messages:send"
        )
        assert service._fcm_url == "http://127.0.0.1:9/v1/projects/url-probe/messages:send"
        # Only that App's service changed, never the class everyone shares.
        assert messaging._MessagingService.FCM_URL == SDK_FCM_URL
    finally:
        firebase_admin.delete_app(app)


def test_without_fcm_api_url_messages_go_to_google(fake: FakeFcm) -> None:
    sender = FcmPush(settings(firebase_project_id="prod-like"), credential=fake.credential())
    try:
        service = messaging._get_messaging_service(sender.app)
        assert service._fcm_url == SDK_FCM_URL.format("prod-like")
    finally:
        sender.close()


def test_a_renamed_class_attribute_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(messaging._MessagingService, "FCM_URL")
    with pytest.raises(RuntimeError, match="FCM_URL"):
        FcmPush(
            settings(firebase_project_id="renamed-1", fcm_api_url="http://127.0.0.1:9"),
            credential=FakeFcm().credential(),
        )
    # The half-made App is not left behind to be reused.
    assert not [a for a in firebase_admin._apps if a.startswith(f"{APP_NAME_PREFIX}:renamed-1")]


def test_a_renamed_instance_attribute_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    original = messaging._MessagingService.__init__

    def init(self: Any, app: Any) -> None:
        original(self, app)
        self._send_url = self.__dict__.pop("_fcm_url")

    monkeypatch.setattr(messaging._MessagingService, "__init__", init)
    with pytest.raises(RuntimeError, match="_fcm_url"):
        FcmPush(
            settings(firebase_project_id="renamed-2", fcm_api_url="http://127.0.0.1:9"),
            credential=FakeFcm().credential(),
        )


def test_fcm_error_bodies_are_fcms_shape() -> None:
    status, body = fcm_error("UNREGISTERED")
    assert status == 404
    assert body == {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": "UNREGISTERED",
                }
            ],
        }
    }
