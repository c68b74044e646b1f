"""docker-compose.yml and the Dockerfiles read as files, as Compose and Docker would read them (the
subset of their syntax this project uses), for the tests that check them against the code:
tests/platform/test_compose.py, test_compose_topology.py, test_proxy_config.py and
test_server_flags.py. No Docker engine runs on these machines (shared/ENVIRONMENT.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_DOCKERFILE = ROOT / "Dockerfile"
PROXY_DOCKERFILE = ROOT / "admin_ui" / "Dockerfile"
NGINX_CONF = ROOT / "admin_ui" / "nginx.conf"
ENV_EXAMPLE = ROOT / ".env.example"

REQUIRED_SECRETS = (
    "JWT_SECRET",
    "OTP_SECRET",
    "POSTGRES_PASSWORD",
    "APP_DB_PASSWORD",
    "TEMPORAL_POSTGRES_PASSWORD",
    "TEMPORAL_DB_PASSWORD",
)
# Distinct values of 32+ characters, as production mode demands of the token secrets.
TEST_ENV = {name: f"{name.lower()}-0123456789abcdef0123456789abcdef" for name in REQUIRED_SECRETS}
# Production takes real money: a provider and its keys are required too.
TEST_ENV |= {
    "PAYMENTS_PROVIDER": "stripe",
    "PUBLIC_BASE_URL": "https://homeplans.example.com",
    "STRIPE_SECRET_KEY": "sk_live_0123456789",
    "STRIPE_WEBHOOK_SECRET": "whsec_0123456789",
    "SUPPORT_PHONE": "+918012345678",
}
# Production serves TLS only with a certificate and key, which compose requires as files.
TEST_ENV |= {
    "TLS_CERT_FILE": "/etc/ssl/homeplans/fullchain.pem",
    "TLS_KEY_FILE": "/etc/ssl/homeplans/privkey.pem",
}


def load_services() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), (
        "docker-compose.yml has no `services:` mapping"
    )
    return dict(data["services"])


# --- reading the files --------------------------------------------------------------------------

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """What Compose makes of one value given `env` (the subset of its syntax this file uses)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        given = env.get(name)
        unset = given is None or (given == "" and op is not None and op.startswith(":"))
        if op is not None and op.endswith("?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op is not None and op.endswith("-") and unset:
            return arg
        return given or ""

    return _VARIABLE.sub(substitute, value)


def variables_in(text: str) -> list[tuple[str, str]]:
    """Every `${...}` reference in `text` as (name, operator); the operator is '' for ${NAME}."""
    return [
        (m.group("name"), m.group("op") or "")
        for m in _VARIABLE.finditer(text)
        if m.group("name") is not None
    ]


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's `environment:`, list form or mapping form, as a dict of raw (uninterpolated)
    strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command(service: Mapping[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """Each dependency with its condition (the short list form means `service_started`)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def dockerfile_stages(path: Path) -> tuple[dict[str, str], list[list[tuple[str, str]]]]:
    """(ARG defaults declared before the first FROM, the instructions of each stage), with
    continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            stages.append([])
        if not stages:
            if keyword == "ARG" and "=" in rest:
                name, _, default = rest.partition("=")
                global_args[name.strip()] = default.strip()
            continue
        stages[-1].append((keyword, rest))
    return global_args, stages


def pin_problem(ref: str) -> str | None:
    """Why an image reference is not pinned to a version, or None when it is."""
    if "@sha256:" in ref:
        return None
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (that means :latest)"
    tag = last.split(":", 1)[1]
    if not tag:
        return "has an empty tag"
    if tag == "latest":
        return "uses :latest"
    return None
