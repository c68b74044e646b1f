"""The production topology of docker-compose.yml, wired to the settings: API and worker replicas
from variables behind the one public entry, forwarding headers trusted from the stack's network
only, stop grace periods longer than the processes' own shutdown timeouts, and Temporal on a
PostgreSQL server of its own with a stated number of history shards. (The proxy's nginx itself:
test_proxy_config.py; env names against the settings, images, commands: test_compose.py.)
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import yaml

from core.http_settings import parse_proxies
from core.settings import Settings
from tests.support.compose_files import (
    APP_DOCKERFILE,
    COMPOSE_FILE,
    ROOT,
    TEST_ENV,
    command,
    dockerfile_stages,
    environment,
    interpolate,
    load_services,
)
from tests.support.nginx_conf import seconds

OPERATIONS_DOC = ROOT / "docs" / "operations.md"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return load_services()


def settings_of(service: dict[str, Any], env: dict[str, str] | None = None) -> Settings:
    """The settings a service's process reads from what compose gives it (nothing else)."""
    values = {
        k.lower(): interpolate(v, TEST_ENV | (env or {})) for k, v in environment(service).items()
    }
    return Settings.model_validate(values)


# --- replicas -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "variable"), [("api", "API_REPLICAS"), ("worker", "WORKER_REPLICAS")]
)
def test_replicas_come_from_a_variable_two_by_default(
    services: dict[str, Any], name: str, variable: str
) -> None:
    service = services[name]
    replicas = str((service.get("deploy") or {}).get("replicas", ""))
    assert interpolate(replicas, {}) == "2", f"{name}: replicas {replicas!r}"
    assert interpolate(replicas, {variable: "5"}) == "5", f"{name} ignores {variable}: {replicas!r}"
    # Replicas share nothing a name or a host port would have to be unique for.
    assert "container_name" not in service and "ports" not in service, name


def test_the_proxy_is_the_only_public_entry(services: dict[str, Any]) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    # The operators' UIs (the Temporal Web UI has no login of its own; Prometheus, Grafana) are
    # published on the host's loopback only: reached through an SSH tunnel.
    operators = {"temporal-ui", "prometheus", "grafana"}
    assert published == {"proxy"} | operators, published
    for name in operators:
        for port in services[name]["ports"]:
            assert interpolate(str(port), {}).startswith("127.0.0.1:"), (name, port)
    assert "api" in (services["proxy"].get("depends_on") or {})


def test_the_api_trusts_forwarding_headers_from_the_stacks_network_only(
    services: dict[str, Any],
) -> None:
    networks = yaml.safe_load(COMPOSE_FILE.read_text())["networks"]
    subnet = interpolate(networks["default"]["ipam"]["config"][0]["subnet"], {})
    network = ipaddress.ip_network(subnet)
    assert network.is_private, subnet
    trusted = parse_proxies(settings_of(services["api"]).trusted_proxies)
    assert trusted != ["*"] and trusted == [str(network)], trusted
    # The same variable moves both.
    moved = settings_of(services["api"], {"APP_NETWORK_SUBNET": "10.77.0.0/24"}).trusted_proxies
    assert moved == interpolate(
        networks["default"]["ipam"]["config"][0]["subnet"], {"APP_NETWORK_SUBNET": "10.77.0.0/24"}
    )


def test_the_proxy_and_the_api_send_the_same_hsts(services: dict[str, Any]) -> None:
    proxy_env = {k: interpolate(v, {}) for k, v in environment(services["proxy"]).items()}
    for env in ({}, {"HSTS_MAX_AGE_SECONDS": "600"}):
        proxy_value = interpolate(environment(services["proxy"])["HSTS_MAX_AGE_SECONDS"], env)
        assert str(settings_of(services["api"], env).hsts_max_age_seconds) == proxy_value
    assert proxy_env["HSTS_MAX_AGE_SECONDS"] == str(
        Settings.model_fields["hsts_max_age_seconds"].default
    )


# --- stopping -------------------------------------------------------------------------------------


def _grace_s(service: dict[str, Any]) -> float:
    return seconds(str(service.get("stop_grace_period", "10s")))  # Docker's default: 10 s


def test_the_api_is_given_longer_to_stop_than_uvicorn_waits_for_answers(
    services: dict[str, Any],
) -> None:
    _, stages = dockerfile_stages(APP_DOCKERFILE)
    image_cmd = [rest for keyword, rest in stages[-1] if keyword == "CMD"][-1]
    for argv in (command(services["api"]), yaml.safe_load(image_cmd)):
        assert "--timeout-graceful-shutdown" in argv, f"uvicorn would wait for ever: {argv}"
        waits = float(argv[argv.index("--timeout-graceful-shutdown") + 1])
        assert 0 < waits < _grace_s(services["api"]), (
            f"uvicorn lets answers finish for {waits} s, Docker kills it after "
            f"{_grace_s(services['api'])} s"
        )


def test_the_worker_is_given_longer_to_stop_than_its_activities_may_take(
    services: dict[str, Any],
) -> None:
    waits = settings_of(services["worker"]).worker_graceful_shutdown_seconds
    assert 0 < waits < _grace_s(services["worker"]), (
        f"the worker lets activities finish for {waits} s, Docker kills it after "
        f"{_grace_s(services['worker'])} s"
    )


# --- Temporal -------------------------------------------------------------------------------------


def test_temporal_runs_on_a_postgres_server_of_its_own(services: dict[str, Any]) -> None:
    app_host = settings_of(services["api"]).database_url.split("@", 1)[1].split(":")[0]
    temporal_host = environment(services["temporal"])["POSTGRES_SEEDS"]
    assert temporal_host != app_host, "Temporal shares the app's PostgreSQL server"
    assert environment(services["temporal-schema"])["POSTGRES_SEEDS"] == temporal_host
    server = services[temporal_host]
    assert str(server["image"]).startswith("postgres:"), server["image"]
    assert "healthcheck" in server

    def data_volume(name: str) -> str:
        mounts = [str(v) for v in services[name].get("volumes", [])]
        found = [m.split(":")[0] for m in mounts if ":/var/lib/postgresql/data" in m]
        assert found, f"{name} keeps its data in no volume"
        return found[0]

    named = yaml.safe_load(COMPOSE_FILE.read_text())["volumes"]
    assert data_volume(temporal_host) in named and data_volume(temporal_host) != data_volume(
        app_host
    )
    # Nobody but Temporal is given its password.
    for name in ("api", "worker", "migrate", "postgres"):
        assert "TEMPORAL_DB_PASSWORD" not in " ".join(environment(services[name]).values()), name


def test_the_number_of_history_shards_is_stated_and_explained(services: dict[str, Any]) -> None:
    shards = int(interpolate(environment(services["temporal"])["NUM_HISTORY_SHARDS"], {}))
    assert shards == 512 and shards & (shards - 1) == 0, shards  # a power of two, as advised
    doc = OPERATIONS_DOC.read_text()
    assert "history shards" in doc.lower() and str(shards) in doc
