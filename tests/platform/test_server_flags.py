"""How uvicorn serves the API in production (the Dockerfile, docker-compose.yml) and in `make run`:
proxy headers off, so the app alone decides who the client is (TRUSTED_PROXIES, api.security), and
an idle keep-alive connection closed after a few seconds; and, through a real uvicorn started with
those flags, a forwarded address from a hop nobody trusts is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from devstack.run import StackConfig, api_command
from tests.conftest import ROOT, free_port
from tests.support.compose_files import dockerfile_stages
from tests.support.sse import READY_TIMEOUT_S, WAIT_S, api_environment


def _dockerfile_cmd() -> list[str]:
    _, stages = dockerfile_stages(ROOT / "Dockerfile")
    cmd = [rest for keyword, rest in stages[-1] if keyword == "CMD"]
    assert cmd, "the Dockerfile's final stage has no CMD"
    return [str(part) for part in json.loads(cmd[-1])]


def _compose_api_cmd() -> list[str]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return [str(part) for part in services["api"]["command"]]


def _devstack_cmd() -> list[str]:
    return api_command(sys.executable, StackConfig.from_env({}))


@pytest.mark.parametrize(
    "argv",
    [_dockerfile_cmd(), _compose_api_cmd(), _devstack_cmd()],
    ids=["docker", "compose", "make-run"],
)
def test_uvicorn_leaves_the_client_to_the_app_and_closes_idle_connections(argv: list[str]) -> None:
    assert "api.main:app" in argv and "--factory" in argv, argv
    assert "--no-proxy-headers" in argv, f"uvicorn would trust X-Forwarded-For itself: {argv}"
    assert "--proxy-headers" not in argv and "--forwarded-allow-ips" not in argv, argv
    keep_alive = argv[argv.index("--timeout-keep-alive") + 1]
    assert 1 <= int(keep_alive) <= 75, argv


@contextlib.contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """The API as `make run` starts it (devstack's argv), on a free port; its base URL."""
    port = free_port()
    argv = api_command(sys.executable, StackConfig.from_env({"API_PORT": str(port)}))
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the API exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            pytest.fail(f"the API was not ready within {READY_TIMEOUT_S:.0f} s")
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=WAIT_S)


async def _fail_sign_in(base: str, identifier: str, forwarded_for: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=WAIT_S) as client:
        response = await client.post(
            "/api/v1/auth/login",
            json={"identifier": identifier, "password": "not the password"},
            headers={"x-forwarded-for": forwarded_for},
        )
    return response.status_code


async def test_over_uvicorn_a_forwarded_address_counts_only_from_a_trusted_proxy(
    db: AsyncSession, database_url: str, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """One failed sign-in per IP. uvicorn's own default would believe X-Forwarded-For from
    127.0.0.1; with the flags it runs with, only TRUSTED_PROXIES does."""
    env = {**api_environment(database_url, temporal_env), "AUTH_MAX_FAILURES_PER_IP": "1"}
    with served(env, tmp_path / "untrusted.log") as base:
        assert await _fail_sign_in(base, "one@example.com", "203.0.113.1") == 401
        # Another address named, but the same hop: 127.0.0.1 has had its one failure.
        assert await _fail_sign_in(base, "two@example.com", "203.0.113.2") == 429
    with served({**env, "TRUSTED_PROXIES": "127.0.0.1"}, tmp_path / "trusted.log") as base:
        assert await _fail_sign_in(base, "three@example.com", "203.0.113.3") == 401
        assert await _fail_sign_in(base, "four@example.com", "203.0.113.4") == 401
        assert await _fail_sign_in(base, "five@example.com", "203.0.113.3") == 429
