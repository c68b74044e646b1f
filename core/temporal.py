"""Connecting to Temporal with the converter every process must share."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings


async def connect(settings: Settings, *, lazy: bool = False) -> Client:
    """A client for the configured namespace; `lazy` defers the connection to first use, so the
    API can start (and answer /readyz with 503) while Temporal is still coming up."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
    )
