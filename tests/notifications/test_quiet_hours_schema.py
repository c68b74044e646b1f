"""Quiet hours are local wall-clock times (the account's time zone says where), and the document
says so: what `GET /me/notification-settings` answers is valid by the document's own schema, and
a time with an offset is refused with a reason naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema_rs

from tests.support.orders_helpers import customer


def _validator(app: Any, name: str) -> jsonschema_rs.Validator:
    """A validator of the component `name` of the app's document, formats checked (its
    references, `#/components/...`, resolve within the schema given)."""
    document = app.openapi()
    schema = {**document["components"]["schemas"][name], "components": document["components"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


async def test_the_settings_answered_are_valid_by_the_documents_own_schema(
    app: Any, api: httpx.AsyncClient
) -> None:
    asha = await customer(api, "asha@example.com")
    settings = _validator(app, "NotificationSettings")

    default = (await api.get("/me/notification-settings", headers=asha.headers)).json()
    assert default["quiet_hours"] == {"starts": "22:00:00", "ends": "07:00:00"}
    assert settings.is_valid(default), list(settings.iter_errors(default))

    changed = await api.patch(
        "/me/notification-settings",
        json={"quiet_hours": {"starts": "23:30", "ends": "06:15:30"}},
        headers=asha.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["quiet_hours"] == {"starts": "23:30:00", "ends": "06:15:30"}
    assert settings.is_valid(changed.json()), list(settings.iter_errors(changed.json()))


async def test_a_quiet_hour_with_an_offset_is_refused_naming_the_field(
    app: Any, api: httpx.AsyncClient
) -> None:
    asha = await customer(api, "asha@example.com")
    patch = _validator(app, "NotificationSettingsPatch")
    for written in ("22:00Z", "22:00:00+05:30", "7:00", "22:00\n"):
        body = {"quiet_hours": {"starts": written, "ends": "07:00"}}
        assert not patch.is_valid(body), written  # the document refuses it too
        answer = await api.patch("/me/notification-settings", json=body, headers=asha.headers)
        assert answer.status_code == 422, (written, answer.text)
        (error,) = answer.json()["errors"]
        assert error["field"] == "quiet_hours.starts", written
        assert "without an offset" in error["message"]
    assert patch.is_valid({"quiet_hours": {"starts": "22:00", "ends": "07:00:00.5"}})
