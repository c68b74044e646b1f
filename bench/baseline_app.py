"""The baseline: a bare FastAPI app with one GET endpoint returning a small JSON.

Run by the bench exactly like the API (`uvicorn --factory bench.baseline_app:app`, one process,
same flags), so the ratio API / baseline isolates what our code, PostgreSQL and hashing cost.
"""

from __future__ import annotations

from fastapi import FastAPI

PATH = "/hello"


def app() -> FastAPI:
    """uvicorn factory: `uvicorn --factory bench.baseline_app:app`."""
    application = FastAPI()

    @application.get(PATH)
    async def hello() -> dict[str, str]:
        return {"message": "hello"}

    return application
