"""`make run` prepares the web apps (the admin panel, the customer app) before the API starts:
for each, `npm ci` when its lockfile changed since the last install, `npm run build` when a source
changed since the last build; otherwise nothing (a start with nothing changed costs a few file
reads).

What changed is decided by content, not by file times (a checkout or a `touch` changes times):
- the install stamp (`<app>/node_modules/.homeplans-install`) holds the SHA-256 of
  `package-lock.json` that was installed;
- the build stamp (`<app>/dist/.homeplans-build`) holds one SHA-256 over every source the build
  reads: `src/`, `public/`, the shared `web_common/`, `index.html`, `package.json`,
  `package-lock.json`, the Vite config and the TypeScript configs. Vite empties `dist/` as it
  starts, so a build that fails leaves no stamp and the next start builds again.

Without npm on the PATH (or with ADMIN_UI_BUILD=skip, CUSTOMER_APP_BUILD=skip) one line says so
and the stack starts anyway: the API answers the app's path with a page that says how to build
it. Nothing is fetched at run
time but the npm registry's packages on the first install; npm's update check, audit and funding
calls are switched off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent
INSTALL_STAMP = Path("node_modules") / ".homeplans-install"
BUILD_STAMP = Path("dist") / ".homeplans-build"
SOURCE_DIRS = ("src", "public", "../web_common")  # the app's own, and the package it shares
SOURCE_GLOBS = (
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.*",
    "tsconfig*.json",
)


@dataclass(frozen=True)
class WebApp:
    name: str  # its lines in the console: "admin-ui"
    title: str  # how a person calls it: "admin panel"
    folder: Path
    skip: str  # the variable that skips its build: "ADMIN_UI_BUILD"
    mount: str  # where the API serves it: "/admin"


ADMIN_UI = WebApp("admin-ui", "admin panel", ROOT / "admin_ui", "ADMIN_UI_BUILD", "/admin")
CUSTOMER_APP = WebApp(
    "customer-app", "customer app", ROOT / "customer_app", "CUSTOMER_APP_BUILD", "/app"
)
APPS = (ADMIN_UI, CUSTOMER_APP)


@dataclass(frozen=True)
class Plan:
    install: bool = False
    build: bool = False
    # The one line to print when the panel cannot be prepared here; None when it can.
    skipped: str | None = None
    sources: str = ""  # the digest the build stamp records once the build succeeds


def lock_digest(ui: Path) -> str:
    return hashlib.sha256((ui / "package-lock.json").read_bytes()).hexdigest()


def _sources(ui: Path) -> Iterator[Path]:
    for pattern in SOURCE_GLOBS:
        yield from (p for p in ui.glob(pattern) if p.is_file())
    for folder in SOURCE_DIRS:
        if (ui / folder).is_dir():
            yield from (
                p for p in (ui / folder).rglob("*") if p.is_file() and "node_modules" not in p.parts
            )


def sources_digest(ui: Path) -> str:
    """One digest over the paths and contents of every source the build reads."""
    digest = hashlib.sha256()
    for path in sorted(set(_sources(ui))):
        digest.update(Path(os.path.relpath(path, ui)).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _stamp(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def plan(ui: Path, *, npm: str | None, env: Mapping[str, str], app: WebApp = ADMIN_UI) -> Plan:
    """What to run for `app` in `ui` (an app there has a package.json)."""
    if not (ui / "package.json").is_file():
        return Plan()  # no app in this checkout: nothing to build, nothing to say
    if env.get(app.skip, "").lower() == "skip":
        return Plan(skipped=f"{app.skip}=skip: the {app.title} is not built at start")
    if npm is None:
        return Plan(
            skipped=f"npm is not on the PATH, so the {app.title} is not built; {app.mount} says "
            "how to build it (Node 20 and npm)"
        )
    if not (ui / "package-lock.json").is_file():
        return Plan(skipped=f"{ui.name}/package-lock.json is missing; run `npm install` there once")
    install = _stamp(ui / INSTALL_STAMP) != lock_digest(ui)
    sources = sources_digest(ui)
    built = (ui / "dist" / "index.html").is_file() and _stamp(ui / BUILD_STAMP) == sources
    return Plan(install=install, build=not built, sources=sources)


def record_install(ui: Path) -> None:
    (ui / INSTALL_STAMP).write_text(lock_digest(ui) + "\n")


def record_build(ui: Path, sources: str) -> None:
    (ui / BUILD_STAMP).write_text(sources + "\n")


def npm_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of npm: no update check, audit or funding calls to the registry."""
    return {
        **env,
        "NPM_CONFIG_UPDATE_NOTIFIER": "false",
        "NPM_CONFIG_AUDIT": "false",
        "NPM_CONFIG_FUND": "false",
        "NO_UPDATE_NOTIFIER": "1",
    }


async def prepare(
    sup: Supervisor,
    *,
    app: WebApp = ADMIN_UI,
    ui: Path | None = None,
    npm: str | None = None,
    env: Mapping[str, str],
) -> bool:
    """Install and build `app` (in `ui`, by default its folder) as `plan` says, the output shown
    under the app's name; True when a build is there to serve. A failure is reported in one line
    and the stack goes on (the API answers the app's path with the page that says how to build
    it)."""
    ui = ui or app.folder
    npm = npm or shutil.which("npm", path=env.get("PATH", os.defpath))
    todo = plan(ui, npm=npm, env=env, app=app)
    if todo.skipped:
        sup.printer.system(todo.skipped)
        return (ui / "dist" / "index.html").is_file()
    if not (todo.install or todo.build):
        if (ui / "package.json").is_file():
            sup.printer.system(f"the {app.title}'s build is up to date")
        return (ui / "dist" / "index.html").is_file()
    assert npm is not None
    run_env = npm_env(env)
    if todo.install:
        sup.printer.system(f"installing the {app.title}'s packages (npm ci)")
        code = await sup.run_once(app.name, [npm, "ci"], env=run_env, cwd=ui)
        if code != 0:
            sup.printer.system(f"npm ci failed (exit code {code}); the {app.title} is not built")
            return False
        record_install(ui)
    if todo.build:
        sup.printer.system(f"building the {app.title} (npm run build)")
        code = await sup.run_once(app.name, [npm, "run", "build"], env=run_env, cwd=ui)
        if code != 0 or not (ui / "dist" / "index.html").is_file():
            sup.printer.system(
                f"the {app.title}'s build failed (exit code {code}); see the {app.name} lines"
            )
            return False
        record_build(ui, todo.sources)
    return True


async def prepare_all(env: Mapping[str, str]) -> bool:
    """Both web apps, as `make run` prepares them (what `make ui` runs); True when both are
    built."""
    from devstack.supervisor import Printer

    sup = Supervisor(Printer())
    built = [await prepare(sup, app=app, env=env) for app in APPS]
    return all(built)


def main() -> int:
    import asyncio

    return 0 if asyncio.run(prepare_all(os.environ)) else 1
