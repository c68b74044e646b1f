"""The API as a client meets it: a real uvicorn and a real worker, each a process of its own,
against a database of their own and a task queue of their own on the suite's Temporal server.

The contract tests (schemathesis) call it synchronously over HTTP, which would block an app or a
worker sharing the test's event loop; hence processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from alembic import command
from temporalio.testing import WorkflowEnvironment

from devstack.postgres import LocalPostgres
from tests.conftest import (
    PASSWORD,
    TEST_OTP_SECRET,
    TEST_SECRET,
    alembic_config,
    free_port,
    make_database,
)

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60.0  # a bound for slow machines, never an expectation
HTTP_TIMEOUT_S = 30.0


@dataclass
class LiveApi:
    base_url: str
    database_url: str
    log_dir: Path
    # The bearer token each role's requests carry (a role's token is replaced when a test ends
    # every session of its account), and the account it belongs to.
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1"

    def sign_in(self, role: str) -> str:
        """A new session of `role`'s account: its access token."""
        answer = httpx.post(
            f"{self.api}/auth/login",
            json={"identifier": self.emails[role], "password": PASSWORD},
            timeout=HTTP_TIMEOUT_S,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def renew(self, role: str) -> None:
        """`role`'s requests carry a new session from now on (after its sessions all ended)."""
        self.tokens[role] = self.sign_in(role)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()}" for p in sorted(self.log_dir.glob("*.log"))
        )


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


@contextmanager
def live_api(
    pg_server: LocalPostgres | None, temporal_env: WorkflowEnvironment, logs: Path
) -> Iterator[LiveApi]:
    """The API and a worker, running on a fresh, migrated database, until the block ends."""
    database_url = make_database(pg_server, f"homeplans_contract_{uuid.uuid4().hex[:8]}")
    command.upgrade(alembic_config(database_url), "head")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": f"contract-{uuid.uuid4().hex[:12]}",
        "JWT_SECRET": TEST_SECRET,
        "OTP_SECRET": TEST_OTP_SECRET,
        "PUBLIC_BASE_URL": base_url,
        "UPLOADS_DIR": str(logs / "uploads"),
        # Every wrong password and code the fuzzing sends comes from this one address: its budget
        # would run out mid-run and refuse the tests' own sign-ins. (The per-address limit has
        # tests of its own, in tests/accounts.)
        "AUTH_MAX_FAILURES_PER_IP": "1000000",
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
        yield LiveApi(base_url, database_url, logs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
