"""`make run`'s decision to install and build the admin panel: `npm ci` only when the lockfile
changed since the last install, `npm run build` only when a source's content changed since the
last build, nothing when nothing changed, and one line (the stack going on) without npm.

A stand-in `npm` (a shell script that records its arguments and, for `run build`, writes the
files Vite would) runs in a temporary copy of an app: no real npm, no network.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from devstack import web_apps as admin_ui
from devstack.supervisor import Printer, Supervisor
from devstack.web_apps import plan, prepare

FAKE_NPM = """#!/bin/sh
echo "$@" >> "$NPM_CALLS"
if [ "$1" = "ci" ]; then mkdir -p node_modules; fi
if [ "$1" = "run" ] && [ "$2" = "build" ]; then
  [ -n "$NPM_FAIL_BUILD" ] && exit 1
  rm -rf dist && mkdir -p dist/assets && echo '<!doctype html>' > dist/index.html
fi
"""


@pytest.fixture
def ui(tmp_path: Path) -> Path:
    app = tmp_path / "admin_ui"
    (app / "src").mkdir(parents=True)
    (app / "package.json").write_text('{"name": "homeplans-admin-ui"}')
    (app / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (app / "index.html").write_text("<div id=root></div>")
    (app / "vite.config.ts").write_text("export default {base: '/admin/'}")
    (app / "tsconfig.json").write_text("{}")
    (app / "src" / "main.tsx").write_text("render(<App />)")
    return app


@pytest.fixture
def npm(tmp_path: Path) -> Path:
    script = tmp_path / "bin" / "npm"
    script.parent.mkdir()
    script.write_text(FAKE_NPM)
    script.chmod(0o755)
    return script


def _calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "npm-calls"
    return log.read_text().splitlines() if log.exists() else []


async def _prepare(
    ui: Path, npm: Path | None, tmp_path: Path, **env: str
) -> tuple[bool, list[str], str]:
    """Run `make run`'s step: (a build is there to serve, npm's calls, the console)."""
    console = io.StringIO()
    before = len(_calls(tmp_path))
    environ = {"PATH": os.environ["PATH"], "NPM_CALLS": str(tmp_path / "npm-calls"), **env}
    served = await prepare(
        Supervisor(Printer(console)), ui=ui, npm=str(npm) if npm else None, env=environ
    )
    return served, _calls(tmp_path)[before:], console.getvalue()


def test_a_fresh_checkout_installs_and_builds(ui: Path) -> None:
    fresh = plan(ui, npm="/usr/bin/npm", env={})
    assert (fresh.install, fresh.build, fresh.skipped) == (True, True, None)


async def test_nothing_runs_again_when_nothing_changed(ui: Path, npm: Path, tmp_path: Path) -> None:
    served, calls, console = await _prepare(ui, npm, tmp_path)
    assert served
    assert calls == ["ci", "run build"]
    assert "npm ci" in console and "npm run build" in console
    assert (ui / admin_ui.INSTALL_STAMP).is_file() and (ui / admin_ui.BUILD_STAMP).is_file()

    served, calls, console = await _prepare(ui, npm, tmp_path)
    assert served
    assert calls == []
    assert "up to date" in console


async def test_a_changed_source_rebuilds_without_installing(
    ui: Path, npm: Path, tmp_path: Path
) -> None:
    await _prepare(ui, npm, tmp_path)
    (ui / "src" / "main.tsx").write_text("render(<App strict />)")
    assert (await _prepare(ui, npm, tmp_path))[1] == ["run build"]

    (ui / "src" / "pages").mkdir()
    (ui / "src" / "pages" / "Plans.tsx").write_text("export {}")  # a new file
    assert (await _prepare(ui, npm, tmp_path))[1] == ["run build"]

    for changed in ("index.html", "vite.config.ts", "tsconfig.json"):
        (ui / changed).write_text((ui / changed).read_text() + "\n")
        assert (await _prepare(ui, npm, tmp_path))[1] == ["run build"], changed

    (ui / "src" / "pages" / "Plans.tsx").unlink()  # a removed file
    assert (await _prepare(ui, npm, tmp_path))[1] == ["run build"]


async def test_a_changed_lockfile_installs_and_rebuilds(
    ui: Path, npm: Path, tmp_path: Path
) -> None:
    await _prepare(ui, npm, tmp_path)
    (ui / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    assert (await _prepare(ui, npm, tmp_path))[1] == ["ci", "run build"]


async def test_times_do_not_count_only_contents(ui: Path, npm: Path, tmp_path: Path) -> None:
    await _prepare(ui, npm, tmp_path)
    for path in (ui / "src" / "main.tsx", ui / "package-lock.json"):
        os.utime(path, (1, 1))  # a checkout or a `touch` moves times, not contents
    assert (await _prepare(ui, npm, tmp_path))[1] == []


async def test_what_the_build_writes_does_not_count(ui: Path, npm: Path, tmp_path: Path) -> None:
    await _prepare(ui, npm, tmp_path)
    (ui / "node_modules" / "left-pad").mkdir()
    (ui / "dist" / "assets" / "extra.js").write_text("1")
    assert (await _prepare(ui, npm, tmp_path))[1] == []


async def test_a_missing_build_or_install_is_made_again(
    ui: Path, npm: Path, tmp_path: Path
) -> None:
    await _prepare(ui, npm, tmp_path)
    (ui / "dist" / "index.html").unlink()
    assert (await _prepare(ui, npm, tmp_path))[1] == ["run build"]
    (ui / admin_ui.INSTALL_STAMP).unlink()  # node_modules wiped, or installed by hand
    assert (await _prepare(ui, npm, tmp_path))[1] == ["ci"]


async def test_a_failed_build_is_tried_again_at_the_next_start(
    ui: Path, npm: Path, tmp_path: Path
) -> None:
    served, calls, console = await _prepare(ui, npm, tmp_path, NPM_FAIL_BUILD="1")
    assert not served
    assert calls == ["ci", "run build"]
    assert "build failed" in console
    assert (await _prepare(ui, npm, tmp_path))[1] == ["run build"]


async def test_without_npm_one_line_says_so_and_the_stack_goes_on(ui: Path, tmp_path: Path) -> None:
    served, calls, console = await _prepare(ui, None, tmp_path, PATH=str(tmp_path / "empty"))
    assert not served
    assert calls == []
    lines = console.strip().splitlines()
    assert len(lines) == 1
    assert "npm is not on the PATH" in lines[0] and "/admin" in lines[0]


async def test_skipped_on_request_and_silent_without_an_app(
    ui: Path, npm: Path, tmp_path: Path
) -> None:
    _, calls, console = await _prepare(ui, npm, tmp_path, ADMIN_UI_BUILD="skip")
    assert calls == [] and "ADMIN_UI_BUILD=skip" in console

    (ui / "package.json").unlink()  # a checkout from before the admin panel
    _, calls, console = await _prepare(ui, npm, tmp_path)
    assert calls == [] and console == ""


def test_each_app_is_skipped_by_its_own_variable(ui: Path) -> None:
    """The customer app's plan answers to CUSTOMER_APP_BUILD, and names its own page."""
    env = {"CUSTOMER_APP_BUILD": "skip"}
    assert plan(ui, npm="npm", env=env, app=admin_ui.ADMIN_UI).skipped is None
    skipped = plan(ui, npm="npm", env=env, app=admin_ui.CUSTOMER_APP).skipped
    assert skipped == "CUSTOMER_APP_BUILD=skip: the customer app is not built at start"
    without_npm = plan(ui, npm=None, env={}, app=admin_ui.CUSTOMER_APP).skipped
    assert without_npm is not None and "/app says how to build it" in without_npm


def test_npm_is_kept_off_the_network_beyond_installing() -> None:
    env = admin_ui.npm_env({"PATH": "/usr/bin"})
    assert env["NPM_CONFIG_UPDATE_NOTIFIER"] == "false"
    assert env["NPM_CONFIG_AUDIT"] == "false"
    assert env["NPM_CONFIG_FUND"] == "false"
