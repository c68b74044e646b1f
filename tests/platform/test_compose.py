"""The production container setup, checked against the code it runs.

No Docker engine runs on these machines (shared/ENVIRONMENT.md), so docker-compose.yml, the two
Dockerfiles and deploy/ are read as files and compared with what the code expects: the settings the
app reads, the commands that start it, the search attributes its workflows set. The namespace job
(deploy/temporal/setup-namespace.sh) runs for real against a Temporal dev server, and where Debian's
`docker-compose` is installed, Compose itself validates the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi import FastAPI

import api.main
from api.routes import health
from core.paths import temporal_cli
from core.settings import Settings
from domain.contracts import SEARCH_ATTRIBUTES
from tests.support.compose_files import (
    APP_DOCKERFILE,
    COMPOSE_FILE,
    ENV_EXAMPLE,
    NGINX_CONF,
    PROXY_DOCKERFILE,
    REQUIRED_SECRETS,
    ROOT,
    TEST_ENV,
    MissingVariable,
    command,
    depends_on,
    dockerfile_stages,
    environment,
    interpolate,
    load_services,
    pin_problem,
    variables_in,
)

PG_INIT_SCRIPT = ROOT / "deploy" / "postgres" / "10-roles-and-databases.sh"
TEMPORAL_PG_INIT_SCRIPT = ROOT / "deploy" / "temporal-postgres" / "10-role-and-databases.sh"
NAMESPACE_SCRIPT = ROOT / "deploy" / "temporal" / "setup-namespace.sh"

SERVICES = (
    "postgres",
    "temporal-postgres",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "migrate",
    "api",
    "worker",
    "proxy",
)
APP_SERVICES = ("api", "worker", "migrate")  # run the Python image with the app's settings
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# temporalio.api.enums.v1.IndexedValueType member -> the type name the `temporal` CLI takes
CLI_TYPE_NAMES = {
    "KEYWORD": "Keyword",
    "TEXT": "Text",
    "INT": "Int",
    "DOUBLE": "Double",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
    "KEYWORD_LIST": "KeywordList",
}


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return load_services()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_type(key: Any) -> str:
    return CLI_TYPE_NAMES[key.indexed_value_type.name]


# --- services and their wiring ------------------------------------------------------------------


def test_every_process_of_the_design_has_a_service(services: dict[str, Any]) -> None:
    missing = [name for name in SERVICES if name not in services]
    assert not missing, f"docker-compose.yml lacks the services {missing}"


def test_every_depends_on_target_exists_and_can_satisfy_its_condition(
    services: dict[str, Any],
) -> None:
    problems = []
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            if target not in services:
                problems.append(f"{name} depends on {target!r}, which is not a service")
            elif condition not in DEPENDS_ON_CONDITIONS:
                problems.append(f"{name} -> {target}: unknown condition {condition!r}")
            elif condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(
                    f"{name} waits for {target} to be healthy, but it has no healthcheck"
                )
            elif (
                condition == "service_completed_successfully"
                and services[target].get("restart", "no") != "no"
            ):
                problems.append(f"{name} waits for {target} to complete, but it is restarted")
    assert not problems, "\n".join(problems)


def test_api_and_worker_start_only_after_migrations_and_temporal(
    services: dict[str, Any],
) -> None:
    api_deps = depends_on(services["api"])
    assert api_deps.get("migrate") == "service_completed_successfully", (
        f"api must wait for the migrations to complete successfully, has {api_deps}"
    )
    worker_deps = depends_on(services["worker"])
    assert "temporal" in worker_deps, f"worker must depend on temporal, has {worker_deps}"
    assert worker_deps.get("migrate") == "service_completed_successfully", (
        f"worker must wait for the migrations to complete successfully, has {worker_deps}"
    )
    for name in ("api", "worker"):
        deps = depends_on(services[name])
        assert deps.get("temporal-setup") == "service_completed_successfully", (
            f"{name} starts workflows that set custom search attributes, so it must wait for "
            f"temporal-setup to register them; has {deps}"
        )


def test_postgres_is_pinned_to_16_with_a_healthcheck_and_a_named_volume(
    services: dict[str, Any], compose_text: str
) -> None:
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:16"), postgres["image"]
    assert "healthcheck" in postgres, "postgres has no healthcheck"
    named_volumes = (yaml.safe_load(compose_text).get("volumes") or {}).keys()
    data_mounts = [
        str(v).split(":")[0]
        for v in postgres.get("volumes", [])
        if ":/var/lib/postgresql/data" in str(v)
    ]
    assert data_mounts and data_mounts[0] in named_volumes, (
        f"postgres keeps its data in {data_mounts}, not in a named volume of {list(named_volumes)}"
    )


# --- the app's configuration ----------------------------------------------------------------------


def test_app_services_pass_only_variables_the_settings_read(services: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name in APP_SERVICES:
        unknown = sorted(set(environment(services[name])) - known)
        assert not unknown, (
            f"{name} is given {unknown}, which core.settings.Settings does not read (a typo, or a "
            "setting that does not exist yet: add the field before passing it)"
        )


def test_app_services_run_in_production_on_the_compose_postgres(
    services: dict[str, Any],
) -> None:
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env.get("ENVIRONMENT") == "production", (
            f"{name}: ENVIRONMENT={env.get('ENVIRONMENT')}"
        )
        url = urlsplit(interpolate(env.get("DATABASE_URL", ""), TEST_ENV))
        assert url.scheme == "postgresql+psycopg", f"{name}: DATABASE_URL scheme {url.scheme!r}"
        assert url.hostname in services, f"{name}: DATABASE_URL host {url.hostname!r} is no service"
        for var in ("JWT_SECRET", "OTP_SECRET", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"):
            assert var in env, f"{name} is not given {var}"


def test_compose_environment_makes_valid_production_settings(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        values = {
            k.lower(): interpolate(v, TEST_ENV) for k, v in environment(services[name]).items()
        }
        # These values alone (no process environment, no .env file): what the container gets.
        settings = Settings.model_validate(values)
        assert settings.environment == "production"
        assert settings.temporal_address.split(":")[0] in services, settings.temporal_address


def test_required_secrets_make_compose_refuse_to_start(compose_text: str) -> None:
    references = variables_in(compose_text)
    for secret in REQUIRED_SECRETS:
        ops = {op for name, op in references if name == secret}
        assert ops, f"{secret} is never passed by docker-compose.yml"
        assert ops == {":?"}, (
            f"{secret} must always be written ${{{secret}:?message}} (so compose refuses to start "
            f"without it), found the forms {sorted(ops)}"
        )
    app_env = environment(yaml.safe_load(compose_text)["services"]["api"])
    with pytest.raises(MissingVariable, match="JWT_SECRET"):
        interpolate(app_env["JWT_SECRET"], {})


def test_env_example_documents_every_variable_and_passes_no_unknown_provider_key(
    compose_text: str,
) -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    assigned: dict[str, int] = {}
    commented: set[str] = set()
    for i, line in enumerate(lines):
        if m := re.fullmatch(r"([A-Z][A-Z0-9_]*)=.*", line):
            assigned[m.group(1)] = i
        elif m := re.fullmatch(r"#\s*([A-Z][A-Z0-9_]*)=.*", line):
            commented.add(m.group(1))
    used = {name for name, _ in variables_in(compose_text)}
    undocumented = sorted(used - set(assigned))
    assert not undocumented, f".env.example lacks {undocumented}, which docker-compose.yml uses"
    stale = sorted(set(assigned) - used)
    assert not stale, f".env.example sets {stale}, which docker-compose.yml never passes"
    uncommented = [name for name, i in assigned.items() if not lines[i - 1].startswith("#")]
    assert not uncommented, f"give each variable a one-line comment above it: {uncommented}"
    passed_early = sorted(commented & used)
    assert not passed_early, f"{passed_early} are 'coming later' in .env.example but already passed"


def _init_script_of(service: Mapping[str, Any], script: Path) -> str:
    mounts = [str(v) for v in service.get("volumes", [])]
    assert any(
        m.startswith(f"./{script.relative_to(ROOT)}:/docker-entrypoint-initdb.d/") for m in mounts
    ), f"{script.relative_to(ROOT)} is not run on the server's first start: {mounts}"
    assert os.access(script, os.X_OK), f"{script} must be executable"
    return script.read_text()


def test_database_roles_match_the_init_scripts(services: dict[str, Any]) -> None:
    """The app's database on `postgres`, Temporal's two on their own `temporal-postgres`: each
    made, with the role that owns it, by the init script its server runs."""
    url = urlsplit(interpolate(environment(services["api"])["DATABASE_URL"], TEST_ENV))
    temporal_env = environment(services["temporal"])
    assert url.hostname == "postgres", url
    assert temporal_env["POSTGRES_SEEDS"] == "temporal-postgres", temporal_env
    expected: dict[tuple[Path, str], dict[str, str | None]] = {
        (PG_INIT_SCRIPT, "postgres"): {url.path.lstrip("/"): url.username},
        (TEMPORAL_PG_INIT_SCRIPT, "temporal-postgres"): {
            temporal_env["DBNAME"]: temporal_env["POSTGRES_USER"],
            temporal_env["VISIBILITY_DBNAME"]: temporal_env["POSTGRES_USER"],
        },
    }
    for (path, server), owners in expected.items():
        script = _init_script_of(services[server], path)
        for database, owner in owners.items():
            assert f"CREATE ROLE {owner} LOGIN" in script, f"{path.name} makes no role {owner}"
            assert f"CREATE DATABASE {database} OWNER {owner}" in script, (
                f"{path.name} makes no database {database} owned by {owner}"
            )
    # Neither server holds the other's databases.
    assert not re.search(r"CREATE (ROLE|DATABASE) temporal", PG_INIT_SCRIPT.read_text())
    assert not re.search(r"CREATE (ROLE|DATABASE) homeplans", TEMPORAL_PG_INIT_SCRIPT.read_text())


# --- commands -------------------------------------------------------------------------------------


def test_api_runs_the_app_factory_with_uvicorn(services: dict[str, Any]) -> None:
    cmd = command(services["api"])
    assert cmd[:1] == ["uvicorn"] and "api.main:app" in cmd, f"api runs {cmd}"
    assert hasattr(api.main, "app"), "api.main has no `app`"
    if not isinstance(api.main.app, FastAPI):
        assert callable(api.main.app) and "--factory" in cmd, (
            f"api.main.app is a factory, so uvicorn needs --factory: {cmd}"
        )


def test_api_healthcheck_asks_readyz_on_the_port_uvicorn_serves(
    services: dict[str, Any],
) -> None:
    service = services["api"]
    probe = " ".join(str(part) for part in service.get("healthcheck", {}).get("test", []))
    assert "/readyz" in probe, f"the api healthcheck does not hit /readyz: {probe!r}"
    assert "/readyz" in {getattr(route, "path", None) for route in health.router.routes}
    cmd = command(service)
    port = cmd[cmd.index("--port") + 1] if "--port" in cmd else "8000"
    assert f":{port}/readyz" in probe, f"uvicorn listens on {port}, the probe asks {probe!r}"


def test_worker_runs_worker_py(services: dict[str, Any]) -> None:
    cmd = command(services["worker"])
    assert cmd == ["python", "worker.py"], f"worker runs {cmd}"
    assert (ROOT / "worker.py").is_file()


def test_migrate_runs_alembic_upgrade_head(services: dict[str, Any]) -> None:
    cmd = command(services["migrate"])
    assert cmd == ["alembic", "upgrade", "head"], f"migrate runs {cmd}"
    assert (ROOT / "alembic.ini").is_file() and (ROOT / "migrations" / "env.py").is_file()


def test_app_services_share_the_python_image(services: dict[str, Any]) -> None:
    images = {interpolate(str(services[name].get("image")), {}) for name in APP_SERVICES}
    assert len(images) == 1, f"api, worker and migrate should run one image, run {images}"
    for name in APP_SERVICES:
        build = services[name].get("build") or {}
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else ""
        assert dockerfile == "Dockerfile", f"{name} is not built from ./Dockerfile: {build}"


# --- images -------------------------------------------------------------------------------------


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    problems = []
    for name, service in services.items():
        if "image" not in service:
            problems.append(f"{name} has no image name (a build gives it one with a tag)")
            continue
        ref = interpolate(str(service["image"]), {})
        if problem := pin_problem(ref):
            problems.append(f"{name}: {ref} {problem}")
    for dockerfile in (APP_DOCKERFILE, PROXY_DOCKERFILE):
        args, _ = dockerfile_stages(dockerfile)
        stage_names: set[str] = set()  # FROM <earlier stage> is no image
        for line in dockerfile.read_text().splitlines():
            m = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
            if not m:
                continue
            ref = re.sub(r"\$\{?(\w+)\}?", lambda v, a=args: a.get(v.group(1), ""), m.group(1))
            if ref not in stage_names and (problem := pin_problem(ref)):
                problems.append(f"{dockerfile.relative_to(ROOT)}: FROM {ref} {problem}")
            if m.group(2):
                stage_names.add(m.group(2))
    assert not problems, "\n".join(problems)


def test_python_image_installs_the_pinned_project_without_root_or_secrets() -> None:
    _, stages = dockerfile_stages(APP_DOCKERFILE)
    runs = [rest for stage in stages for keyword, rest in stage if keyword == "RUN"]
    installs = [
        run
        for run in runs
        if re.search(
            r"pip install\b[^&;]*(-c|--constraint)[ =]constraints\.txt[^&;]*\s\.(\s|$)", run
        )
    ]
    assert installs, f"no `pip install -c constraints.txt .` in {APP_DOCKERFILE.name}: {runs}"
    assert not any("[dev]" in run or "-e " in run for run in runs), "no dev extras, no editable"

    final = stages[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage of the Dockerfile has no USER line: it would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"the image runs as {users[-1]}"

    baked = [
        f"{keyword} {rest}"
        for stage in stages
        for keyword, rest in stage
        if keyword in {"ENV", "ARG"} and re.search(r"SECRET|PASSWORD|TOKEN|API_KEY", rest, re.I)
    ]
    assert not baked, f"secrets must come at run time, not from the image: {baked}"

    copied = " ".join(rest for keyword, rest in final if keyword == "COPY")
    for needed in ("alembic.ini", "migrations", "worker.py"):
        assert needed in copied, f"the final stage does not copy {needed}, which a command needs"


def test_proxy_serves_the_web_apps_and_proxies_api_to_the_api_service(
    services: dict[str, Any],
) -> None:
    build = services["proxy"].get("build") or {}
    assert (ROOT / build.get("context", ".") / build.get("dockerfile", "")).resolve() == (
        PROXY_DOCKERFILE
    ), f"proxy is not built from {PROXY_DOCKERFILE.relative_to(ROOT)}: {build}"
    _, stages = dockerfile_stages(PROXY_DOCKERFILE)
    assert len(stages) >= 2, "admin_ui/Dockerfile should build with node, then serve with nginx"
    first_from = stages[0][0][1]  # each stage starts with its FROM
    assert first_from.startswith("node:"), f"the build stage starts FROM {first_from}"
    serve = stages[-1]
    assert any(k == "COPY" and "nginx.conf" in r for k, r in serve), "nginx.conf is not copied"
    assert any(k == "COPY" and "--from=" in r and "dist" in r for k, r in serve), (
        "the built SPA (dist) is not copied into the nginx stage"
    )

    conf = NGINX_CONF.read_text()
    api_block = re.search(r"location /api/ \{(.*?)\n    \}", conf, re.S)
    assert api_block and "proxy_pass" in api_block.group(1), "nginx does not proxy /api/"
    env_lines = " ".join(rest for keyword, rest in serve if keyword == "ENV")
    upstream = re.search(r"API_UPSTREAM=(\S+)", env_lines)
    assert upstream and "${API_UPSTREAM}" in api_block.group(1), "/api/ is not sent to API_UPSTREAM"
    host, _, port = upstream.group(1).partition(":")
    api_cmd = command(services["api"])
    assert host == "api" and port == api_cmd[api_cmd.index("--port") + 1], (
        f"nginx sends /api/ to {upstream.group(1)}, the api service listens on api:"
        f"{api_cmd[api_cmd.index('--port') + 1]}"
    )


# --- Temporal -----------------------------------------------------------------------------------


def configured_search_attributes(services: dict[str, Any]) -> dict[str, str]:
    raw = environment(services["temporal-setup"]).get("SEARCH_ATTRIBUTES", "")
    return dict(pair.split("=", 1) for pair in raw.split())


def test_setup_job_registers_every_search_attribute_of_the_contracts(
    services: dict[str, Any],
) -> None:
    expected = {key.name: cli_type(key) for key in SEARCH_ATTRIBUTES}
    configured = configured_search_attributes(services)
    wrong_types = [
        f"{name}: {configured[name]}, not {kind}"
        for name, kind in expected.items()
        if configured.get(name) not in (None, kind)
    ]
    assert configured == expected, (
        "temporal-setup's SEARCH_ATTRIBUTES differ from domain.contracts.SEARCH_ATTRIBUTES: "
        f"missing {sorted(set(expected) - set(configured))}, "
        f"extra {sorted(set(configured) - set(expected))}, wrong types {wrong_types}"
    )
    setup = services["temporal-setup"]
    script_mounts = {
        str(v).split(":")[1]: ROOT / str(v).split(":")[0]
        for v in setup.get("volumes", [])
        if str(v).startswith("./")
    }
    run = command(setup)
    scripts = [script_mounts[part] for part in run if part in script_mounts]
    assert scripts, f"temporal-setup runs {run}, no script mounted from this repository"
    assert "temporal operator search-attribute create" in scripts[0].read_text()


def test_setup_job_uses_the_namespace_of_the_app(services: dict[str, Any]) -> None:
    app_namespace = environment(services["api"])["TEMPORAL_NAMESPACE"]
    setup_namespace = environment(services["temporal-setup"])["TEMPORAL_NAMESPACE"]
    for env in ({}, {"TEMPORAL_NAMESPACE": "homeplans-prod"}):
        assert interpolate(setup_namespace, env) == interpolate(app_namespace, env), (
            f"temporal-setup prepares {setup_namespace!r}, the app uses {app_namespace!r}"
        )
    assert environment(services["api"])["TEMPORAL_ADDRESS"].split(":")[0] == "temporal"


@pytest.fixture
def dev_server() -> Iterator[str]:
    """A Temporal dev server in memory, with no search attribute registered."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(temporal_cli()),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_setup_script_creates_the_namespace_and_attributes_on_a_real_server(
    services: dict[str, Any], dev_server: str
) -> None:
    namespace = "compose-setup-test"
    env = {
        **os.environ,
        "PATH": f"{temporal_cli().parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TEMPORAL_ADDRESS": dev_server,
        "TEMPORAL_NAMESPACE": namespace,
        "SEARCH_ATTRIBUTES": environment(services["temporal-setup"])["SEARCH_ATTRIBUTES"],
        "SETUP_RETRY_DELAY": "0.5",
    }

    def run_setup() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(NAMESPACE_SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = run_setup()
    assert first.returncode == 0, first.stdout + first.stderr
    listed = subprocess.run(
        [
            str(temporal_cli()),
            "operator",
            "search-attribute",
            "list",
            "--namespace",
            namespace,
            "--address",
            dev_server,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    custom = json.loads(listed.stdout)["customAttributes"]
    expected = {
        key.name: f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}" for key in SEARCH_ATTRIBUTES
    }
    assert custom == expected

    again = run_setup()  # idempotent: a second run finds everything in place
    assert again.returncode == 0, again.stdout + again.stderr
    assert "registering" not in again.stdout and "creating namespace" not in again.stdout


# --- Compose itself, where it is installed --------------------------------------------------------

DOCKER_COMPOSE = shutil.which("docker-compose")
needs_docker_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose), so Compose "
    "itself does not validate docker-compose.yml here",
)


def compose_config(tmp_path: Path, given: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q` with exactly `given` for the file's variables: neither the
    caller's shell nor a local .env can fill one in."""
    assert DOCKER_COMPOSE is not None
    names = {name for name, _ in variables_in(COMPOSE_FILE.read_text())}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(given)
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [
            DOCKER_COMPOSE,
            "--env-file",
            str(empty_env_file),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_docker_compose
def test_docker_compose_accepts_the_file_with_the_required_secrets(tmp_path: Path) -> None:
    result = compose_config(tmp_path, TEST_ENV)
    assert result.returncode == 0, result.stderr


@needs_docker_compose
@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_docker_compose_refuses_to_start_without_a_secret(tmp_path: Path, secret: str) -> None:
    result = compose_config(tmp_path, {k: v for k, v in TEST_ENV.items() if k != secret})
    assert result.returncode != 0, f"compose accepted the file without {secret}"
    assert secret in result.stderr, result.stderr
