"""Constrained types shared by the domains' input models."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar, get_args

import phonenumbers
from pydantic import AfterValidator, BaseModel, EmailStr, Strict, StringConstraints, ValidationInfo


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
# A JSON true or false, as the document says: not "yes", "on", 1 or "false" read as a boolean.
Flag = Annotated[bool, Strict()]


def numbers_not_text(cls: Any, value: Any, info: ValidationInfo) -> Any:
    """A `field_validator("*", mode="before")`: a whole-number field is given a JSON number,
    not text or a boolean (which pydantic would read as one: "940", true). A number with a
    fraction is refused by the field itself; 940.0 is 940, as JSON Schema's `integer` says."""
    field = cls.model_fields.get(info.field_name) if info.field_name else None
    if field is not None and _is_int(field.annotation) and isinstance(value, str | bool):
        raise ValueError("must be a whole number")
    return value


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_is_int(arg) for arg in get_args(annotation) if arg is not type(None))


def omit_null(schema: dict[str, Any]) -> None:
    """`json_schema_extra` of a field that may be left out but not sent as null (a validator
    refuses null): the document offers its value's type only, with no `default: null`."""
    branches = schema.pop("anyOf", None)
    if branches is not None:
        kept = [branch for branch in branches if branch != {"type": "null"}]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    if "default" in schema and schema["default"] is None:
        del schema["default"]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, the total across all pages, and the window asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int
