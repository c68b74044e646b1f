"""Constrained types shared by the domains' input models."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import phonenumbers
from pydantic import AfterValidator, BaseModel, EmailStr, StringConstraints


def normalize_phone(value: str) -> str:
    """E.164 form of a phone number given in international format; ValueError if invalid."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone must be in international format, e.g. +919812345678") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    return value.strip().lower()


Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(normalize_phone)
]
Email = Annotated[EmailStr, AfterValidator(normalize_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# NIST 800-63B: at least 8 characters, long passphrases allowed, no composition rules.
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, the total across all pages, and the window asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int
