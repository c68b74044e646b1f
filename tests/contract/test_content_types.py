"""A body sent in a type the operation does not take is a 415 that names the type it does take
(it was a 422 "Input should be a valid dictionary" on an empty field); what each operation takes
comes from how it declares its body: JSON for most, a form for the sandbox payment page, a file
for a service request's photo, anything at all for an operation that declares no body.

The unsubscribe link answers a person in a browser with a page and a client that asks for JSON
with problem+json, whatever is wrong with the link (a malformed token was JSON for everyone, a
tampered one a page for everyone).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.settings import Settings
from domain.notifications import unsubscribe
from domain.notifications.kinds import Channel, Topic
from tests.conftest import PASSWORD, bearer, make_settings, register

PROBLEM_JSON = "application/problem+json"
JSON_BODY = b'{"email": "kiran@example.com", "password": "' + PASSWORD.encode() + b'"}'
# What a browser sends when a person opens a link (Firefox's; Chrome's is much the same).
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NOT_JSON = [
    ("text/plain", JSON_BODY),
    ("text/plain; charset=utf-8", JSON_BODY),
    ("application/x-www-form-urlencoded", b"email=kiran%40example.com&password=x"),
    ("multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; name="email"'),
    ("application/xml", b"<register><email>kiran@example.com</email></register>"),
    ("text/json", JSON_BODY),  # not a JSON type: FastAPI would not parse it either
]


def assert_unsupported(response: httpx.Response, *accepted: str, method: str = "POST") -> None:
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 415
    assert f"send the body as {' or '.join(accepted)}" in problem["detail"], problem
    # RFC 9110 15.5.16: `Accept` in the answer says what would have been taken; the method's own
    # field (Accept-Post, Accept-Patch) says it too, for clients that know those.
    assert response.headers["accept"] == ", ".join(accepted)
    own = {"POST": "accept-post", "PATCH": "accept-patch"}.get(method)
    if own is not None:
        assert response.headers[own] == ", ".join(accepted)


@pytest.mark.parametrize(("content_type", "body"), NOT_JSON)
async def test_a_body_that_is_not_json_is_refused_by_a_json_operation(
    api: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    answer = await api.post("/auth/register", content=body, headers={"content-type": content_type})
    assert_unsupported(answer, "application/json")


async def test_a_body_with_no_type_is_refused_and_json_in_any_spelling_taken(
    api: httpx.AsyncClient,
) -> None:
    # FastAPI does not read an untyped body as JSON; saying so beats "not a valid dictionary".
    untyped = await api.post("/auth/register", content=JSON_BODY)
    assert "content-type" not in untyped.request.headers
    assert_unsupported(untyped, "application/json")
    for n, content_type in enumerate(
        ("application/json", "application/json; charset=utf-8", "application/vnd.api+json")
    ):
        body = JSON_BODY.replace(b"kiran@", f"kiran{n}@".encode())
        answer = await api.post(
            "/auth/register", content=body, headers={"content-type": content_type}
        )
        assert answer.status_code == 201, (content_type, answer.text)


async def test_a_form_or_a_file_sent_to_a_signed_in_json_operation_is_refused(
    api: httpx.AsyncClient,
) -> None:
    headers = bearer((await register(api, "asha@example.com"))["tokens"])
    form = await api.post(
        "/support/callbacks", data={"reason": "billing", "phone": "+919812345678"}, headers=headers
    )
    assert_unsupported(form, "application/json")
    text = await api.post(
        "/support/callbacks",
        content=b'{"reason": "billing"}',
        headers={**headers, "content-type": "text/plain"},
    )
    assert_unsupported(text, "application/json")
    upload = await api.post(
        "/support/callbacks", files={"file": ("a.txt", b"call me")}, headers=headers
    )
    assert_unsupported(upload, "application/json")
    patch = await api.patch(
        "/me/notification-settings",
        content=b'{"time_zone": "Europe/London"}',
        headers={**headers, "content-type": "text/plain"},
    )
    assert_unsupported(patch, "application/json", method="PATCH")
    # And JSON is still what they take.
    taken = await api.post(
        "/support/callbacks", json={"reason": "billing", "phone": "+919812345678"}, headers=headers
    )
    assert taken.status_code == 201, taken.text
    # An operation that takes no body judges none, whatever type the client names.
    read_all = await api.post(
        "/me/notifications/read-all", headers={**headers, "content-type": "text/plain"}
    )
    assert read_all.status_code == 200, read_all.text


async def test_operations_that_take_other_types_keep_them(api: httpx.AsyncClient) -> None:
    # The sandbox payment page posts a form: JSON is the wrong type there.
    approve = await api.post(
        "/sandbox/payments/no-such-session/approve", json={"client_secret": "x"}
    )
    assert_unsupported(approve, "application/x-www-form-urlencoded")
    as_form = await api.post(
        "/sandbox/payments/no-such-session/approve", data={"client_secret": "x"}
    )
    assert as_form.status_code == 404, as_form.text
    # A photo is a file in a form.
    headers = bearer((await register(api, "ravi@example.com"))["tokens"])
    photos = f"/service-requests/{uuid.uuid4()}/photos"
    photo = await api.post(photos, json={"file": "x"}, headers=headers)
    assert_unsupported(photo, "multipart/form-data")
    as_file = await api.post(photos, files={"file": ("a.png", b"x")}, headers=headers)
    assert as_file.status_code == 404, as_file.text  # past the type: nobody's request
    # A webhook reads its body as the provider sent it: no type is refused before the signature.
    hook = await api.post(
        "/webhooks/stripe", content=b"id=evt_1", headers={"content-type": "text/plain"}
    )
    assert hook.status_code == 404, hook.text  # not configured here, whatever the type


def test_the_document_declares_415_where_a_body_is_taken(app: Any) -> None:
    document = app.openapi()
    with_body = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            if "requestBody" in op:
                with_body += 1
                answer = op["responses"].get("415")
                assert answer is not None, where
                assert list(answer["content"]) == [PROBLEM_JSON], where
                assert "Accept" in answer["headers"], where
            else:
                assert "415" not in op["responses"], where
    assert with_body > 30
    register_op = document["paths"]["/api/v1/auth/register"]["post"]
    assert "Accept-Post" in register_op["responses"]["415"]["headers"]


# --- the unsubscribe link -----------------------------------------------------------------------


def _token(settings: Settings, *, now: datetime | None = None) -> str:
    link = unsubscribe.link(
        settings,
        message_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        topic=Topic.promotions,
        channel=Channel.email,
        now=now or datetime.now(UTC),
    )
    return link.split("token=", 1)[1]


def _tampered(settings: Settings) -> str:
    token = _token(settings)
    return token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")


def _foreign(settings: Settings) -> str:
    return _token(make_settings(jwt_secret="another-secret-of-at-least-thirty-two-characters"))


def _expired(settings: Settings) -> str:
    return _token(settings, now=datetime.now(UTC) - timedelta(days=400))


def assert_page(response: httpx.Response, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "This link does not work" in response.text and says in response.text, response.text
    assert response.headers["cache-control"] == "no-store"


def assert_problem(response: httpx.Response, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert says in response.json()["detail"], response.json()


MALFORMED = ["x", "not a token at all, with spaces in it", "a" * 1001, "abcdefghij<script>klmnop"]


@pytest.mark.parametrize("token", MALFORMED)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_malformed_link_is_a_page_for_a_person_and_a_problem_for_a_client(
    api: httpx.AsyncClient, token: str, method: str
) -> None:
    params = {"token": token}
    page = await api.request(method, "/unsubscribe", params=params, headers={"accept": BROWSER})
    assert_page(page, 400, "not a link we sent")
    problem = await api.request(
        method, "/unsubscribe", params=params, headers={"accept": "application/json"}
    )
    assert problem.status_code == 422, problem.text
    assert problem.headers["content-type"] == PROBLEM_JSON
    assert problem.json()["errors"][0]["field"] == "token"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_missing_token_is_a_page_for_a_person(api: httpx.AsyncClient, method: str) -> None:
    page = await api.request(method, "/unsubscribe", headers={"accept": BROWSER})
    assert_page(page, 400, "not a link we sent")


@pytest.mark.parametrize(
    ("make", "status", "says"),
    [
        (_tampered, 400, "not one we sent"),
        (_foreign, 400, "not one we sent"),
        (_expired, 410, "expired"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_link_that_does_not_work_answers_in_the_type_asked_for(
    api: httpx.AsyncClient, settings: Settings, make: Any, status: int, says: str, method: str
) -> None:
    params = {"token": make(settings)}
    # A person's browser, and a mail client that names no preference (`*/*`), get the page.
    for accept in (BROWSER, "text/html", "*/*"):
        page = await api.request(method, "/unsubscribe", params=params, headers={"accept": accept})
        assert_page(page, status, says)
    for accept in (
        "application/json",
        "application/problem+json",
        "application/json, text/html;q=0.5",
    ):
        problem = await api.request(
            method, "/unsubscribe", params=params, headers={"accept": accept}
        )
        assert_problem(problem, status, says)
    if method == "POST":
        # RFC 8058: a mail client's one-click posts the form `List-Unsubscribe=One-Click`; the
        # link's own answer comes back, never a refusal of the form's type.
        one_click = await api.post(
            "/unsubscribe", params=params, data={"List-Unsubscribe": "One-Click"}
        )
        assert_page(one_click, status, says)


def test_the_document_declares_both_answers_of_the_unsubscribe_link(app: Any) -> None:
    item = app.openapi()["paths"]["/api/v1/unsubscribe"]
    for method in ("get", "post"):
        responses = item[method]["responses"]
        for status in ("400", "410"):
            assert set(responses[status]["content"]) == {"text/html", PROBLEM_JSON}, status
        assert list(responses["422"]["content"]) == [PROBLEM_JSON]
        assert "requestBody" not in item[method]
