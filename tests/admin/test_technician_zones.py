"""A technician's zones are postal codes of 3 to 10 letters, digits or hyphens, spaces between
them not counted ("560 001" is 560001), and the document's pattern says exactly that: a code the
API refuses for being too short once its spaces are gone, the document refuses too."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.catalog_helpers import add_categories, make_admin
from tests.support.technician_helpers import technician_body


def test_the_documented_pattern_counts_the_characters_without_spaces(app: Any) -> None:
    zones = app.openapi()["components"]["schemas"]["TechnicianIn"]["properties"]["zones"]
    pattern = zones["items"]["pattern"]
    for taken in ("560001", "560 001", "SW1A-1AA", "a b c"):
        assert re.match(pattern, taken), taken
    for refused in ("a  b", "ab", "12345678901", "560_001"):
        assert not re.match(pattern, refused), refused


async def test_a_code_too_short_without_its_spaces_is_refused_naming_it(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin, "plumbing")
    body = technician_body(zones=["560001", "a  b"])
    answer = await api.post("/admin/technicians", json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["zones.1"]
