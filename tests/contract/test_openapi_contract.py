"""The OpenAPI document tells a client the truth: schemathesis drives every operation of the live
API (a real uvicorn and a real worker, over HTTP) with generated requests, valid and invalid, as a
customer and as an admin, and fails on a server error or on a status code or content type that
the document does not declare.

A small, seeded budget runs in `make test`; a longer run is the same test with more examples:

    CONTRACT_EXAMPLES=60 .venv/bin/python -m pytest tests/contract/test_openapi_contract.py \
        -p no:randomly

The API and the worker run as processes of their own against their own database and task queue
on the suite's Temporal server: schemathesis calls the API synchronously, which would block an
app or a worker sharing the test's event loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from alembic import command
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from devstack.postgres import LocalPostgres
from tests.conftest import (
    PASSWORD,
    TEST_OTP_SECRET,
    TEST_SECRET,
    alembic_config,
    free_port,
    make_database,
    make_settings,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "6"))
READY_TIMEOUT_S = 60.0  # a bound for slow machines, never an expectation
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
# Operations that end the caller's own session: sent without our token, or every later case
# would be refused as signed out.
ENDS_SESSION = {"/api/v1/auth/logout"}


@dataclass
class LiveApi:
    base_url: str
    database_url: str
    log_dir: Path
    tokens: dict[str, str]


def _wait_ready(base_url: str, procs: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                output = "\n".join(p.read_text() for p in logs.glob("*.log"))
                pytest.fail(f"a process of the live API exited ({proc.returncode}):\n{output}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the live API was not ready within {READY_TIMEOUT_S:.0f} s")


def _user(base_url: str, email: str) -> tuple[str, str]:
    """A registered user: (id, access token)."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Contract"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["user"]["id"], body["tokens"]["access_token"]


@pytest.fixture(scope="session")
def live_api(
    pg_server: LocalPostgres | None,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveApi]:
    database_url = make_database(pg_server, f"homeplans_contract_{uuid.uuid4().hex[:8]}")
    command.upgrade(alembic_config(database_url), "head")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("contract")
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": f"contract-{uuid.uuid4().hex[:12]}",
        "JWT_SECRET": TEST_SECRET,
        "OTP_SECRET": TEST_OTP_SECRET,
        "PUBLIC_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
    }
    commands = {
        "worker": [sys.executable, "worker.py"],
        "api": [sys.executable, "-m", "uvicorn", "--factory", "api.main:app", "--port", str(port)],
    }
    procs = []
    for name, argv in commands.items():
        with (logs / f"{name}.log").open("wb") as out:
            procs.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out))
    try:
        _wait_ready(base_url, procs, logs)
        _customer_id, customer = _user(base_url, "contract-customer@example.com")
        admin_id, admin = _user(base_url, "contract-admin@example.com")
        url = make_url(database_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
            conn.execute("UPDATE users SET role = 'admin' WHERE id = %s", (admin_id,))
        yield LiveApi(base_url, database_url, logs, {"customer": customer, "admin": admin})
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# The document as the app builds it (no server needed to read it), loaded at collection so each
# operation is a test of its own. (Loading it lazily from a fixture instead fails on pytest 9.2:
# schemathesis 4.32 renames the test node through an attribute pytest no longer has.)
DOCUMENT = create_app(make_settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# A stream that opens (the live dashboard, for an admin) lasts until the client leaves: the
# contract reads its first events (the figures come first) and hangs up.
schema.config.max_stream_events = 2

# Operations that answer a live stream (text/event-stream), which lasts as long as what it follows.
# The contract's database holds no service request and the cases' ids are random, so each case of
# these is a 404 or a 422; were one ever to open a stream, a read timeout shorter than the stream's
# 15 s keep-alive fails that case instead of hanging the run.
STREAMS = {
    path
    for path, item in DOCUMENT["paths"].items()
    for op in item.values()
    if "text/event-stream" in op["responses"].get("200", {}).get("content", {})
}
STREAM_READ_TIMEOUT_S = 10.0


# (role, status) -> requests: printed at the end of the module, the figures of a run.
ANSWERS: Counter[tuple[str, int]] = Counter()


def figures() -> list[str]:
    """The run's figures, one line per role (printed by conftest's terminal summary)."""
    lines = []
    for role in ("customer", "admin"):
        statuses = {status: n for (who, status), n in sorted(ANSWERS.items()) if who == role}
        if statuses:
            lines.append(
                f"contract ({EXAMPLES} examples per operation), as {role}: "
                f"{sum(statuses.values())} requests, by status {statuses}"
            )
    return lines


def _drive(case: Any, live_api: LiveApi, role: str) -> None:
    # Our token replaces the random ones schemathesis makes up for the bearer scheme, so the
    # cases reach what each operation does, not only its 401.
    headers = {}
    if case.path not in ENDS_SESSION:
        headers["Authorization"] = f"Bearer {live_api.tokens[role]}"
    bounded = {"timeout": STREAM_READ_TIMEOUT_S} if case.path in STREAMS else {}
    response = case.call(base_url=live_api.base_url, headers=headers, **bounded)
    ANSWERS[(role, response.status_code)] += 1
    case.validate_response(response, checks=CHECKS, headers=headers)


# Seeded (derandomize): the same examples on every run, so a failure here reproduces.
CONTRACT_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@CONTRACT_SETTINGS
def test_every_operation_answers_a_customer_as_documented(case: Any, live_api: LiveApi) -> None:
    _drive(case, live_api, "customer")


@schema.parametrize()
@CONTRACT_SETTINGS
def test_every_operation_answers_an_admin_as_documented(case: Any, live_api: LiveApi) -> None:
    _drive(case, live_api, "admin")


# --- the document itself ------------------------------------------------------------------------


def test_every_error_an_operation_declares_is_problem_json() -> None:
    document = create_app(make_settings()).openapi()
    checked = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    expected = (
                        # The unsubscribe link's pages too, for a person in a browser (who is
                        # shown a 400 page for invalid input, never a 422).
                        ["application/problem+json", "text/html"]
                        if path == "/api/v1/unsubscribe" and status != "422"
                        else ["application/problem+json"]
                    )
                    assert list(response["content"]) == expected, (where, status)
                    checked += 1
            if op.get("security"):  # a bearer token is needed
                assert "401" in op["responses"], where
            if path.startswith("/api/v1/admin/"):
                assert "403" in op["responses"], where
    assert checked > 150
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_sign_up_schema_says_an_email_or_a_phone_is_needed() -> None:
    schema = create_app(make_settings()).openapi()["components"]["schemas"]["RegisterIn"]
    assert {"required": ["email"]}.items() <= schema["anyOf"][0].items()
    assert {"required": ["phone"]}.items() <= schema["anyOf"][1].items()
