"""What a check found, and the one way the checks read the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg


@dataclass
class Result:
    name: str
    checked: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < 5:
            self.notes.append(text)


async def rows(db: psycopg.AsyncConnection[Any], sql: str, **params: Any) -> list[tuple[Any, ...]]:
    cursor = await db.execute(sql, params)
    return list(await cursor.fetchall())
