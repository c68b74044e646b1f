"""deploy/prometheus and deploy/grafana, read against docker-compose.yml and the code: Prometheus
scrapes every api replica on the port uvicorn serves and every worker on WORKER_METRICS_ADDRESS's
port, loads the alert rules it is given, and Grafana's dashboard reads the data source that is
provisioned. No container runs here (shared/ENVIRONMENT.md): the files are compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from api.metrics import METRICS_PATH
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> file of this repository, for each bind mount of `service`."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            found[target] = ROOT / source
    return found


def scrape_job(name: str) -> dict[str, Any]:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert name in jobs, f"prometheus.yml has no job {name}: {sorted(jobs)}"
    return jobs[name]


def test_prometheus_scrapes_every_api_and_worker_replica_where_they_serve_metrics() -> None:
    services = compose()["services"]
    api_cmd = [str(part) for part in services["api"]["command"]]
    api_port = int(api_cmd[api_cmd.index("--port") + 1])
    worker_env = services["worker"]["environment"]
    settings = Settings.model_validate(
        {"worker_metrics_address": worker_env["WORKER_METRICS_ADDRESS"]}
    )
    worker_port = int(settings.worker_metrics_address.rsplit(":", 1)[1])

    for job, service, port in (
        ("homeplans-api", "api", api_port),
        ("homeplans-worker", "worker", worker_port),
    ):
        config = scrape_job(job)
        assert config.get("metrics_path", "/metrics") == METRICS_PATH
        # One A record per replica: every replica is a target, however many are scaled.
        assert config["dns_sd_configs"] == [
            {"names": [service], "type": "A", "port": port, "refresh_interval": "30s"}
        ], config


def test_the_observability_services_run_only_in_their_profile_with_the_files_here() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name].get("profiles") == ["observability"], name
        for target, source in mounts(services[name]).items():
            assert source.exists(), f"{name} mounts {source}, which is not there ({target})"
        for port in services[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    # Nothing else runs only in a profile: `docker compose up` still starts the whole system.
    assert [n for n, s in services.items() if s.get("profiles")] == ["prometheus", "grafana"]

    prometheus = mounts(services["prometheus"])
    config = yaml.safe_load(prometheus["/etc/prometheus/prometheus.yml"].read_text())
    for rules in config["rule_files"]:
        assert rules in prometheus, f"prometheus.yml loads {rules}, which is not mounted"


def test_grafana_provisions_the_data_source_and_the_dashboard_it_reads() -> None:
    grafana = mounts(compose()["services"]["grafana"])
    provisioning = grafana["/etc/grafana/provisioning"]
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((provisioning / "dashboards" / "homeplans.yml").read_text())
    (provider,) = providers["providers"]
    dashboards = grafana[provider["options"]["path"]]
    dashboard = json.loads((dashboards / "homeplans.json").read_text())
    used = {
        json.dumps(target["datasource"], sort_keys=True)
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }
    assert used == {json.dumps({"type": "prometheus", "uid": source["uid"]}, sort_keys=True)}
