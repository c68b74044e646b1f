"""Service requests through the HTTP API: asked for under a live plan, assigned, started,
completed and rated (some cancelled by the customer); now and then several asked for at once
racing for a plan's last visits. Each request's live stream is read by a client that drops the
connection now and then (and loses it when an API process dies) and reconnects with
`Last-Event-ID`, as an EventSource does."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx

from chaos.client import GaveUp, new_key
from chaos.world import Holder, RequestSeen, World

STREAM_S = 300.0  # a stream still open after this long is given up (the checks say what it lost)
ENDED = {"completed", "cancelled"}


async def ask(world: World, holder: Holder, category: str) -> httpx.Response:
    start, end = world.next_window()
    return await world.api.call(
        "POST",
        "/service-requests",
        who=holder.who,
        op="ask for a visit",
        key=new_key("ask"),
        json={
            "subscription_id": holder.subscription_id,
            "category_id": world.categories[category],
            "description": "The kitchen tap drips all night.",
            "window_start": start,
            "window_end": end,
        },
    )


async def status_of(world: World, seen: RequestSeen) -> str:
    response = await world.api.call(
        "GET", f"/service-requests/{seen.request_id}", who=seen.holder.who, op="read request"
    )
    return str(response.json().get("status"))


async def move(
    world: World, seen: RequestSeen, path: str, body: dict[str, Any], wanted: str, op: str
) -> bool:
    """One move as staff or the customer; a 409 after a retry may mean the first attempt moved
    it already, so the request is read: True when it is where the move takes it."""
    admin = path.startswith("/admin")
    who = world.admin if admin else seen.holder.who
    response = await world.api.call("POST", path, who=who, op=op, json=body)
    if response.status_code == 200:
        return True
    return await status_of(world, seen) == wanted


async def lifecycle(world: World) -> None:
    holders = [h for h in world.holders if h.renewal == "auto" and h.requests < 3]
    if not holders:
        return
    holder = world.rng.choice(holders)
    holder.requests += 1
    asked = await ask(world, holder, world.rng.choice(["plumbing", "electrical"]))
    if asked.status_code not in (200, 201):
        return  # no visit left or the plan lapsed: refused with the reason, nothing recorded
    seen = RequestSeen(asked.json()["id"], holder)
    world.requests[seen.request_id] = seen
    reader = asyncio.create_task(follow(world, seen))
    try:
        await drive(world, seen)
    finally:
        with contextlib.suppress(TimeoutError, GaveUp):
            await asyncio.wait_for(reader, timeout=STREAM_S)


async def drive(world: World, seen: RequestSeen) -> None:
    rid = f"/service-requests/{seen.request_id}"
    rng = world.rng
    if rng.random() < 0.15:
        await cancel(world, seen, "not needed")
        return
    for technician in rng.sample(world.technicians, k=len(world.technicians)):
        body = {"technician_id": technician}
        if await move(world, seen, f"/admin{rid}/assign", body, "assigned", "assign"):
            break
    else:
        return
    if rng.random() < 0.1:
        await cancel(world, seen, "changed my mind")
        return
    if not await move(world, seen, f"/admin{rid}/start", {}, "in_progress", "start visit"):
        return
    done = {"notes": "Replaced the washer.", "parts_used": []}
    if not await move(world, seen, f"/admin{rid}/complete", done, "completed", "complete visit"):
        return
    seen.final = "completed"
    rating = {"stars": rng.randint(3, 5), "comment": "Quick and tidy."}
    await world.api.call("POST", f"{rid}/rating", who=seen.holder.who, op="rate", json=rating)


async def cancel(world: World, seen: RequestSeen, reason: str) -> None:
    path = f"/service-requests/{seen.request_id}/cancel"
    if await move(world, seen, path, {"reason": reason}, "cancelled", "cancel"):
        seen.final = "cancelled"


async def race(world: World) -> None:
    """A fresh holder asks for three plumbing visits at once: their plan has two."""
    holders = [h for h in world.holders if h.renewal == "auto" and h.requests == 0]
    if not holders:
        return
    holder = world.rng.choice(holders)
    holder.requests = 3
    answers = await asyncio.gather(*(ask(world, holder, "plumbing") for _ in range(3)))
    won = [a for a in answers if a.status_code in (200, 201)]
    world.races.append([a.json()["id"] for a in won])
    for answer in won:  # give the visits back, so the plan stays usable
        seen = RequestSeen(answer.json()["id"], holder)
        world.requests[seen.request_id] = seen
        await cancel(world, seen, "booked twice")


async def follow(world: World, seen: RequestSeen) -> None:
    """Read the request's stream to its end, reconnecting with the last id received."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_S
    last: int | None = None
    world.api.ops["follow stream"] += 1
    while loop.time() < deadline:
        headers = dict(seen.holder.who.headers)
        if last is not None:
            headers["Last-Event-ID"] = str(last)
        url = world.api.url(f"/service-requests/{seen.request_id}/events")
        # Now and then the client drops the connection itself after a few events.
        drop_after = world.rng.choice([None, 1, 2])
        got = 0
        try:
            async with world.api.http.stream("GET", url, headers=headers, timeout=60) as response:
                if response.status_code == 204:
                    seen.ended = True
                    return  # ended: every change was read
                if response.status_code == 401:
                    await world.api.sign_in(seen.holder.who)
                    continue
                if response.status_code != 200:
                    raise httpx.TransportError(f"stream answered {response.status_code}")
                async for event, event_id, data in events(response):
                    if event_id is not None and event in ("state", "change"):
                        if event == "change":
                            seen.stream_ids.append(event_id)
                        elif seen.first_state is None:
                            seen.first_state = event_id
                        last = event_id if last is None else max(last, event_id)
                    if event == "change" and json.loads(data).get("to_status") in ENDED:
                        seen.ended = True
                        return
                    if event == "reauth":
                        await world.api.sign_in(seen.holder.who)
                        break
                    got += event == "change"
                    if drop_after is not None and got >= drop_after:
                        break
        except (httpx.TransportError, httpx.StreamError):
            pass
        seen.reconnects += 1
        await asyncio.sleep(0.3 + world.rng.random())


async def events(response: httpx.Response) -> Any:
    """(event, id, data) of each server-sent event, as an EventSource dispatches them."""
    event, event_id = "message", None
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data or event != "message":
                yield event, event_id, "\n".join(data)
            event, event_id, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "id" and value.isdigit():
                event_id = int(value)
            elif name == "data":
                data.append(value)
