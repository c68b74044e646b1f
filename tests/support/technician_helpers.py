"""Small factories shared by the technician and dispatch tests."""

from __future__ import annotations

from typing import Any

import httpx

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def nine_to_six(*days: str) -> dict[str, list[list[str]]]:
    """09:00-18:00 on the given days (Monday to Friday if none)."""
    return {day: [["09:00", "18:00"]] for day in days or WEEKDAYS}


def technician_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Ravi Kumar",
        "phone": "+919812340001",
        "skills": ["plumbing"],
        "zones": ["560001"],
        "working_hours": nine_to_six(),
    }
    body.update(overrides)
    return body


async def add_technician(
    api: httpx.AsyncClient, admin: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await api.post(
        "/admin/technicians", json=technician_body(**overrides), headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()
