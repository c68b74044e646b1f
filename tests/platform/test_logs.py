"""Logs an operator can follow: every request has an id, the API writes one access line per
request with it, and the workflows and activities the request caused write their lines with the
same id (and the workflow's), in JSON in production and in readable text in development."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core import logs, request_context
from core.request_context import LogContext
from core.settings import Settings
from core.temporal import connect
from domain.contracts import checkout_workflow_id
from tests.conftest import free_port, make_settings
from tests.support.checkout_helpers import sandbox_act, shop_with_cart, wait_for_order
from tests.support.sse import WAIT_S, ApiProcess, api_environment
from tests.support.waiting import eventually
from worker import build_worker

# --- capturing the process's log as its handler writes it ------------------------------------


class Lines:
    """What a JSON handler on the root logger wrote while the test ran, line by line."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def of(self, **fields: Any) -> list[dict[str, Any]]:
        return [line for line in self.all() if all(line.get(k) == v for k, v in fields.items())]


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[Lines]:
    caplog.set_level(logging.INFO)
    logs.stamp_records()
    stream = io.StringIO()
    handler = logs.handler("json", service="test", stream=stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield Lines(stream)
    finally:
        root.removeHandler(handler)


# --- the purchase, followed by its request id ----------------------------------------------------


@pytest.fixture
async def traced_api(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API and a worker on a client made as every process makes it (`core.temporal.connect`:
    with its interceptors), not the test server's bare one."""
    address = temporal_env.client.service_client.config.target_host
    client = await connect(settings.model_copy(update={"temporal_address": address}))
    async with build_worker(client, settings, sessions=sessions):
        application = create_app(settings, temporal=client)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as api:
                yield api


async def test_a_purchases_request_id_is_in_the_access_line_and_in_its_workflows_activities(
    traced_api: httpx.AsyncClient, db: AsyncSession, json_log: Lines
) -> None:
    api = traced_api
    buyer, _plan = await shop_with_cart(api, db)
    request_id = f"support-case-{uuid.uuid4().hex[:12]}"
    started = await api.post(
        "/checkout",
        json={},
        headers={
            **buyer.headers,
            "Idempotency-Key": f"key-{uuid.uuid4()}",
            "X-Request-Id": request_id,
        },
    )
    assert started.status_code == 201, started.text
    assert started.headers["x-request-id"] == request_id
    order_id = started.json()["order"]["id"]
    # The payer's approval is another request (another id): the checkout's activities keep the
    # id of the request that started the purchase.
    approved = await sandbox_act(api, started.json()["payment"])
    assert approved.status_code == 200
    assert approved.headers["x-request-id"] not in ("", request_id)
    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"

    # The API's access line: the route, its status, the user.
    [access] = json_log.of(logger="homeplans.access", request_id=request_id)
    assert access["route"] == "/api/v1/checkout" and access["method"] == "POST"
    assert access["status"] == 201 and access["user_id"] == str(buyer.id)
    assert access["message"].startswith("POST /api/v1/checkout 201 ")

    # Each activity of the checkout workflow the request caused, with the workflow's ids; and,
    # through the activity that starts it, the subscription's workflow too.
    workflow_id = checkout_workflow_id(uuid.UUID(order_id))

    def activities(lines: list[dict[str, Any]]) -> set[str]:
        return {line["activity"] for line in lines if line.get("workflow_id") == workflow_id}

    expected = {"create_payment_session", "check_payment", "settle_order", "announce_order"}
    ran = await eventually(
        _reader(lambda: json_log.of(logger="homeplans.activity", request_id=request_id)),
        lambda lines: (
            expected <= activities(lines)
            and any(str(line["workflow_id"]).startswith("subscription") for line in lines)
        ),
        "the checkout's and the subscription's activity lines with the purchase's request id",
    )
    for line in ran:
        assert line["user_id"] == str(buyer.id), line
        assert line["run_id"] and line["outcome"] == "completed", line
    # The same lines, without the id: nothing of the purchase is written under another one.
    others = [
        line
        for line in json_log.of(logger="homeplans.activity", workflow_id=workflow_id)
        if line.get("request_id") != request_id
    ]
    assert others == []


def _reader(read: Any) -> Any:
    async def again() -> Any:
        return read()

    return again


# --- request ids at the API's edge ---------------------------------------------------------------


@pytest.fixture
def bare_app() -> FastAPI:
    """The app without its lifespan (no database or Temporal), with two routes of the test's."""
    app = create_app(make_settings())

    @app.get("/test/ok/{thing}")
    async def ok(thing: str) -> dict[str, str | None]:
        logging.getLogger("homeplans.test").info("handling %s", thing)
        return {"request_id": request_context.request_id()}

    @app.get("/test/boom")
    async def boom() -> None:
        raise ZeroDivisionError("a bug")

    return app


async def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_a_valid_incoming_request_id_is_kept_and_answered(
    bare_app: FastAPI, json_log: Lines
) -> None:
    answer = await _get(bare_app, "/test/ok/a", **{"X-Request-Id": "lb-7f3a.2:9_x"})
    assert answer.headers["x-request-id"] == "lb-7f3a.2:9_x"
    assert answer.json() == {"request_id": "lb-7f3a.2:9_x"}
    [line] = json_log.of(logger="homeplans.test")
    assert line["request_id"] == "lb-7f3a.2:9_x" and line["message"] == "handling a"
    [access] = json_log.of(logger="homeplans.access")
    assert access["route"] == "/test/ok/{thing}" and access["status"] == 200
    assert access["request_id"] == "lb-7f3a.2:9_x" and "user_id" not in access
    assert isinstance(access["duration_ms"], float)


@pytest.mark.parametrize(
    "given", ["has space", "x" * 101, "new\nline", "semi;colon", "", "ünïcode"], ids=repr
)
async def test_an_unsafe_or_overlong_request_id_is_replaced(bare_app: FastAPI, given: str) -> None:
    transport = httpx.ASGITransport(app=bare_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/test/ok/b", headers=[(b"x-request-id", given.encode("utf-8"))])
    made = answer.headers["x-request-id"]
    assert made != given and len(made) == 32 and int(made, 16) >= 0
    assert answer.json() == {"request_id": made}


async def test_every_request_gets_its_own_id(bare_app: FastAPI) -> None:
    answers = await asyncio.gather(*(_get(bare_app, f"/test/ok/{n}") for n in range(5)))
    ids = {answer.headers["x-request-id"] for answer in answers}
    assert len(ids) == 5
    assert ids == {answer.json()["request_id"] for answer in answers}


async def test_a_500_problem_names_its_request_id_and_the_log_has_the_traceback(
    bare_app: FastAPI, json_log: Lines
) -> None:
    answer = await _get(bare_app, "/test/boom", **{"X-Request-Id": "ask-support-42"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "ask-support-42"
    assert answer.json()["request_id"] == "ask-support-42"
    [error] = json_log.of(logger="homeplans.api", level="ERROR")
    assert error["request_id"] == "ask-support-42"
    assert "ZeroDivisionError: a bug" in error["exception"]
    [access] = json_log.of(logger="homeplans.access")
    assert access["status"] == 500 and access["route"] == "/test/boom"


async def test_a_4xx_problem_carries_no_request_id_in_its_body(bare_app: FastAPI) -> None:
    answer = await _get(bare_app, "/test/nowhere/%0Aforged")
    assert answer.status_code == 404 and "request_id" not in answer.json()
    assert answer.headers["x-request-id"]


async def test_an_unmatched_path_is_logged_as_sent_on_one_line(
    bare_app: FastAPI, json_log: Lines
) -> None:
    await _get(bare_app, "/test/nowhere/%0Aforged?token=secret")
    [access] = json_log.of(logger="homeplans.access")
    assert access["route"] == "/test/nowhere/%0Aforged" and access["status"] == 404


# --- the formats ---------------------------------------------------------------------------------


def _record(message: str, **extra: Any) -> logging.LogRecord:
    logs.stamp_records()
    record = logging.getLogger("homeplans.test").makeRecord(
        "homeplans.test", logging.WARNING, __file__, 1, message, (), None, extra=extra
    )
    record.created = 1_765_000_000.25  # 2025-12-06T05:46:40.250Z
    return record


def test_a_json_line_carries_time_level_logger_message_ids_and_extras() -> None:
    request_context.begin(
        LogContext(request_id="r1", user_id="u1", workflow_id="checkout:o1", run_id="run1")
    )
    try:
        record = _record("settled", order_id="o1")
    finally:
        request_context.begin(LogContext())
    line = json.loads(logs.JsonFormatter("homeplans-worker").format(record))
    assert line == {
        "time": "2025-12-06T05:46:40.250Z",
        "level": "WARNING",
        "logger": "homeplans.test",
        "message": "settled",
        "service": "homeplans-worker",
        "request_id": "r1",
        "user_id": "u1",
        "workflow_id": "checkout:o1",
        "run_id": "run1",
        "order_id": "o1",
    }


def test_a_json_line_has_the_exception_and_leaves_out_unknown_ids() -> None:
    request_context.begin(LogContext())
    try:
        raise ValueError("bad thing")
    except ValueError:
        record = _record("failed")
        record.exc_info = __import__("sys").exc_info()
    line = json.loads(logs.JsonFormatter().format(record))
    assert "Traceback" in line["exception"] and "ValueError: bad thing" in line["exception"]
    assert not {"request_id", "user_id", "workflow_id", "run_id", "service"} & line.keys()


def test_temporals_own_workflow_lines_name_the_workflow() -> None:
    request_context.begin(LogContext())
    record = _record(
        "woke up", temporal_workflow={"workflow_id": "subscription:s1", "run_id": "r9"}
    )
    line = json.loads(logs.JsonFormatter().format(record))
    assert (line["workflow_id"], line["run_id"]) == ("subscription:s1", "r9")


def test_the_text_line_is_readable_with_the_ids_at_its_end() -> None:
    request_context.begin(LogContext(request_id="r1", user_id="u1"))
    try:
        record = _record("checkout started")
    finally:
        request_context.begin(LogContext())
    assert logs.TextFormatter().format(record) == (
        "2025-12-06T05:46:40.250Z WARNING homeplans.test: checkout started "
        "[request_id=r1 user_id=u1]"
    )


@pytest.mark.parametrize(
    ("environment", "log_format", "expected"),
    [
        ("production", "", "json"),
        ("development", "", "text"),
        ("test", "", "text"),
        ("production", "text", "text"),
        ("development", "json", "json"),
    ],
)
def test_the_format_follows_the_environment_unless_set(
    environment: str, log_format: str, expected: str
) -> None:
    values: dict[str, Any] = {"environment": environment, "log_format": log_format}
    settings = Settings.model_construct(**values)
    assert logs.log_format(settings) == expected


@pytest.mark.parametrize(("given", "level"), [("debug", "DEBUG"), (" warning ", "WARNING")])
def test_log_level_is_read_in_any_case(given: str, level: str) -> None:
    assert make_settings(log_level=given).log_level == level


@pytest.mark.parametrize("setting", [{"log_level": "LOUD"}, {"log_format": "xml"}])
def test_a_log_setting_that_is_not_known_is_refused(setting: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"(?i)log_level|log_format"):
        make_settings(**setting)


def test_configure_logging_writes_the_chosen_format_and_turns_uvicorns_access_line_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    level = root.level
    switches = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing")
    kept = {name: getattr(logging, name) for name in switches}
    try:
        logs.configure_logging(
            make_settings(log_format="json", log_level="DEBUG"), service="homeplans-api"
        )
        logging.getLogger("uvicorn.error").info("Application startup complete.")
        logs.configure_logging(make_settings(), service="homeplans-api")  # again: text, once
        logging.getLogger("homeplans.test").info("in text")
        assert not logging.getLogger("uvicorn.access").hasHandlers()
    finally:
        for ours in [h for h in root.handlers if getattr(h, "_homeplans", False)]:
            root.removeHandler(ours)
        root.setLevel(level)
        for name, value in kept.items():
            setattr(logging, name, value)
    err = capsys.readouterr().err.splitlines()  # other threads may write lines in between
    [started] = [json.loads(line) for line in err if "Application startup complete." in line]
    assert (started["logger"], started["service"], started["level"]) == (
        "uvicorn.error",
        "homeplans-api",
        "INFO",
    )
    in_text = [line for line in err if "in text" in line]
    assert len(in_text) == 1 and in_text[0].endswith(" INFO homeplans.test: in text"), in_text


# --- under uvicorn, as production runs it ---------------------------------------------------------


def test_under_uvicorn_the_api_writes_json_lines_and_its_own_access_line_only(
    database_url: str, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = api_environment(database_url, temporal_env) | {"LOG_FORMAT": "json"}
    api = ApiProcess(env, free_port(), tmp_path / "api.log")
    api.start()
    try:
        answer = httpx.get(
            f"{api.base_url}/api/v1/catalog/categories",
            headers={"X-Request-Id": "uvicorn-line-1"},
            timeout=WAIT_S,
        )
        assert answer.headers["x-request-id"] == "uvicorn-line-1"
    finally:
        api.stop()
    lines = [json.loads(line) for line in api.log.read_text().splitlines() if line.strip()]
    assert {line["service"] for line in lines} == {"homeplans-api"}
    [access] = [line for line in lines if line.get("request_id") == "uvicorn-line-1"]
    assert (access["logger"], access["route"]) == ("homeplans.access", "/api/v1/catalog/categories")
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(line["logger"] == "uvicorn.error" for line in lines), "uvicorn's own lines"
