"""What the admin UI's browser tests run on: the real API (`uvicorn --factory api.main:app`, which
serves the built SPA at /admin) and a real worker (`python worker.py`), as processes of their own
on a database of their own and the suite's Temporal server; Debian's chromium driven by the
Python `playwright` package through `executable_path` (nothing is downloaded).

Without a browser or a built UI the tests skip, loudly; with `CI` set they fail instead, since
the project's own setup (`make test`: `make ui browser`) provides both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from playwright.async_api import Page, expect
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from devstack.postgres import LocalPostgres
from tests.conftest import PASSWORD, ROOT, alembic_config, free_port, make_database, make_settings
from tests.support.worker_process import WorkerProcess, worker_environment

DIST = ROOT / "admin_ui" / "dist" / "index.html"
AXE = ROOT / "customer_app" / "node_modules" / "axe-core" / "axe.min.js"
APP_DIST = ROOT / "customer_app" / "dist" / "index.html"
SCREENS = ROOT / "test-artifacts" / "screens"
READY_TIMEOUT_S = 60.0  # a bound for slow machines, never an expectation
# ENVIRONMENT.md: as root, on a closed network, with a fresh profile (playwright makes one).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing(what: str) -> None:
    """Skip (loudly) or, in CI, fail: the tests cannot run without `what`."""
    message = f"WEB APP BROWSER TESTS NOT RUN: {what}"
    if os.environ.get("CI"):
        pytest.fail(message)
    warnings.warn(message, stacklevel=2)
    print(f"\n*** {message} ***", file=sys.stderr)
    pytest.skip(message)


def require_browser_and_build(dist: Path = DIST) -> str:
    path = chromium_path()
    if path is None:
        missing("no chromium (run `make browser` as root: apt-get install chromium)")
    if not dist.exists():
        missing(f"{dist.parent.parent.name} is not built (run `make ui`)")
    assert path is not None
    return path


@dataclass
class Live:
    base_url: str
    database_url: str
    logs: Path

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    def client(self) -> httpx.AsyncClient:
        """An HTTP client of the live API, base URL /api/v1 (what the test helpers expect)."""
        return httpx.AsyncClient(base_url=self.api_url, timeout=30)

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs.glob("*.log"))

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Rows of the live stack's database (what a test reads that no route shows: a code)."""
        url = make_url(self.database_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
            return list(conn.execute(sql, args).fetchall())

    def set_role(self, email: str, role: str) -> None:
        """Make a registered user staff, as an operator would (`manage.py create-admin`)."""
        url = make_url(self.database_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
            conn.execute("UPDATE users SET role = %s WHERE email = %s", (role, email))

    def staff(self, email: str, role: str, name: str) -> dict[str, Any]:
        """A staff member who signs in with PASSWORD: their register answer (tokens inside)."""
        response = httpx.post(
            f"{self.api_url}/auth/register",
            json={"email": email, "password": PASSWORD, "name": name},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        self.set_role(email, role)
        return dict(response.json())


def _wait_ready(base_url: str, procs: list[subprocess.Popen[bytes]], live: Live) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"a process of the live stack exited:\n{live.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"the live API was not ready within {READY_TIMEOUT_S:.0f} s:\n{live.output()}")


@contextlib.contextmanager
def live_stack(
    pg_server: LocalPostgres | None, temporal_env: WorkflowEnvironment, logs: Path
) -> Iterator[Live]:
    database_url = make_database(pg_server, f"homeplans_ui_{uuid.uuid4().hex[:8]}")
    command.upgrade(alembic_config(database_url), "head")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url=database_url, public_base_url=base_url)
    env = worker_environment(settings, temporal_env.client)
    live = Live(base_url, database_url, logs)
    worker = WorkerProcess(env, logs / "worker.log")
    with (logs / "api.log").open("wb") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(base_url, [api, worker.proc], live)
        yield live
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(api.pid, signal.SIGTERM)
        try:
            api.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(api.pid, signal.SIGKILL)
            api.wait()
        worker.kill()


def screenshot_path(name: str) -> str:
    SCREENS.mkdir(parents=True, exist_ok=True)
    return str(SCREENS / f"{name}.png")


async def axe_check(page: Page, name: str) -> None:
    """axe-core on the screen as it is: no serious or critical violation; then a photograph."""
    # Evaluated through the DevTools protocol: the apps' policies allow no inline script.
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    await page.screenshot(path=screenshot_path(name), full_page=True)


async def sign_in_admin(page: Page, email: str) -> None:
    """Sign in to the admin panel with PASSWORD, as a person does; the dashboard opens."""
    await page.goto("/admin/")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await page.get_by_label("Email or phone").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


async def settled(page: Page, where: str) -> None:
    """The screen has loaded: its heading, nothing loading or failed, nothing off the side."""
    main = page.locator("main")
    await expect(main.get_by_role("heading").first, where).to_be_visible()
    await expect(main.get_by_test_id("loading"), where).to_have_count(0)
    await expect(main.get_by_test_id("error"), where).to_have_count(0)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, (where, overflow)
