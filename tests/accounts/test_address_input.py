"""An address's fields are held to what can be stored and to their JSON types: a city longer
than its column is refused naming the field (it was a 422 without one, from the database), and
`is_default` is a JSON boolean, not a word or a number read as one."""

from __future__ import annotations

import httpx

from tests.support.orders_helpers import add_address, customer

ADDRESS = {"line1": "12 MG Road", "city": "Bengaluru", "postal_code": "560001", "country": "IN"}


def _field_error(answer: httpx.Response) -> str:
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    return str(error["field"])


async def test_a_city_longer_than_can_be_stored_is_refused_naming_it(
    api: httpx.AsyncClient,
) -> None:
    asha = await customer(api, "asha@example.com")
    long_city = {**ADDRESS, "city": "B" * 101}
    assert _field_error(await api.post("/me/addresses", json=long_city, headers=asha.headers)) == (
        "city"
    )
    changed = await api.patch(
        f"/me/addresses/{asha.address_id}", json={"city": "B" * 101}, headers=asha.headers
    )
    assert _field_error(changed) == "city"
    longest = await add_address(api, asha.headers, city="B" * 100)
    assert longest["city"] == "B" * 100


async def test_is_default_is_a_json_boolean(api: httpx.AsyncClient) -> None:
    asha = await customer(api, "asha@example.com")
    for written in ("true", "yes", 1, 0):
        body = {**ADDRESS, "is_default": written}
        answer = await api.post("/me/addresses", json=body, headers=asha.headers)
        assert _field_error(answer) == "is_default", written
    taken = await api.post(
        "/me/addresses", json={**ADDRESS, "is_default": True}, headers=asha.headers
    )
    assert taken.status_code == 201 and taken.json()["is_default"] is True
