"""How the authorization matrix (tests/contract/test_authorization_matrix.py) sends an operation:
as its entry in tests/support/authz_matrix.py describes it, with the world's values filled in,
in-process; a stream to a live API process instead, read for its status and closed at once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from tests.conftest import latest_code
from tests.support.authz_matrix import OPERATIONS, Op, fill
from tests.support.authz_world import png
from tests.support.sse import ApiProcess

STREAM_WAIT_S = 10.0  # a bound for a stream's first bytes on a slow machine, not an expectation


@dataclass
class Stack:
    api: httpx.AsyncClient  # base /api/v1, for the helpers that seed
    root: httpx.AsyncClient  # base /, for the matrix's full paths
    db: AsyncSession
    uploads: Path
    live: ApiProcess
    settings: Settings


def _detail(answer: httpx.Response) -> str:
    """A problem's detail (its `instance` names the path asked, so the problem as a whole differs
    between two ids even when it says the same), or the body."""
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        return str(answer.json().get("detail"))
    return answer.text


class Caller:
    """Sends one operation as someone, in-process (or to the live server for a stream)."""

    def __init__(self, stack: Stack, statuses: Counter[int]) -> None:
        self.stack, self.statuses = stack, statuses

    async def send(
        self,
        who: dict[str, str] | None,
        key: tuple[str, str],
        values: dict[str, str],
        op: Op | None = None,
    ) -> tuple[int, str]:
        """(status, the problem's detail or the body's text) of the operation `key`, sent as its
        entry says (or as `op` says)."""
        method, template = key
        op = op or OPERATIONS[key]
        path = fill(template, values)
        headers = {**(who or {}), **(op.headers or {}), "Idempotency-Key": f"authz-{uuid.uuid4()}"}
        query = fill(op.query, values)
        if op.stream:
            return await self._stream(method, path, headers, query)
        body: dict[str, Any] = {}
        if op.photo:
            body["files"] = {"file": ("tap.png", png(), "image/png")}
        elif op.form is not None:
            body["data"] = op.form
        elif op.code_for is not None:
            body["json"] = await self._code(values[op.code_for])
        elif op.body is not None:
            body["json"] = fill(op.body, values)
        self.stack.root.cookies.clear()  # every request stands alone
        answer = await self.stack.root.request(method, path, params=query, headers=headers, **body)
        self.statuses[answer.status_code] += 1
        return answer.status_code, _detail(answer)

    async def _stream(
        self, method: str, path: str, headers: dict[str, str], query: Any
    ) -> tuple[int, str]:
        async with (
            asyncio.timeout(STREAM_WAIT_S),
            httpx.AsyncClient(base_url=self.stack.live.base_url, timeout=STREAM_WAIT_S) as client,
            client.stream(method, path, headers=headers, params=query) as answer,
        ):
            status = answer.status_code
            if status != 200:  # a refusal is a short problem+json: read it whole
                await answer.aread()
        self.statuses[status] += 1
        return status, _detail(answer) if status != 200 else ""

    async def _code(self, phone: str) -> dict[str, str]:
        """A sign-in code sent to `phone`, as its owner reads it."""
        started = await self.stack.root.post("/api/v1/auth/phone/start", json={"phone": phone})
        assert started.status_code == 202, started.text
        return {"phone": phone, "code": await latest_code(self.stack.db, phone)}
