"""The customer app's configuration (public): `api.app_config`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.app_config import AppConfig, app_config
from api.deps import SettingsDep

router = APIRouter(prefix="/app", tags=["customer app"])


@router.get("/config", response_model=AppConfig)
async def read_config(settings: SettingsDep, response: Response) -> AppConfig:
    """The time zone, currency and providers the app works with on this server."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return app_config(settings)
