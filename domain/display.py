"""What operators read of a customer and a time outside the admin panel (the Temporal Web UI):
a contact masked (never a whole email or phone), a time in the business's zone with its label
(`domain/timefmt.py`), also from inside a workflow's sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio import workflow

from domain import timefmt

MORE = "…"


# --- times: in the business's zone, also inside a workflow's sandbox ---------------------------


def business_zone() -> ZoneInfo:
    """The business's zone. Its first use in a process may be inside a workflow (a timer's words):
    the settings and the zone's file are then read as the worker has them, passed through the
    sandbox (they are configuration, the same for every run and every replay), and cached."""
    with workflow.unsafe.imports_passed_through():
        return timefmt.zone()


def when(at: datetime) -> str:
    return timefmt.when(at, business_zone())


def clock(at: datetime) -> str:
    return timefmt.clock(at, business_zone())


def day(at: datetime) -> str:
    return timefmt.day(at, business_zone())


def window(start: datetime, end: datetime) -> str:
    return timefmt.window(start, end, business_zone())


def hours(seconds: int) -> str:
    """`4 h`, or `90 min` for a length that is no whole number of hours."""
    whole, rest = divmod(seconds, 3600)
    return f"{whole} h" if rest == 0 else f"{seconds // 60} min"


# --- masking ------------------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """`asha.rao@example.com` -> `as…@…`: at most the first two characters of the local part
    (one of a short one), never its domain. Enough to tell two customers apart in a list,
    not enough to write to them."""
    local, _, _domain = email.strip().partition("@")
    keep = 2 if len(local) > 3 else 1
    return f"{local[:keep]}{MORE}@{MORE}"


def mask_phone(phone: str) -> str:
    """`+919876543210` -> `+91…10`: the first two digits after a `+` (the country code, or its
    start) and the last two."""
    digits = "".join(c for c in phone if c.isdigit())
    head = f"+{digits[:2]}" if phone.strip().startswith("+") and len(digits) > 6 else ""
    return f"{head}{MORE}{digits[-2:]}"


def mask_name(name: str | None) -> str | None:
    """`Asha Rao` -> `Asha R.`: the first name and the initials of the rest."""
    parts = (name or "").split()
    if not parts:
        return None
    return " ".join([parts[0], *(f"{p[0]}." for p in parts[1:])])


@dataclass(frozen=True)
class Customer:
    """Who a workflow is for, as people read it; shown masked only."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def contact(self) -> str:
        if self.email:
            return mask_email(self.email)
        if self.phone:
            return mask_phone(self.phone)
        return "no contact"

    @property
    def who(self) -> str:
        """`Asha R. (as…@…)`."""
        name = mask_name(self.name)
        return f"{name} ({self.contact})" if name else self.contact
