"""Money: integer minor units with an ISO 4217 currency, everywhere."""

from __future__ import annotations

from iso4217 import Currency


def iso4217_code(value: str) -> str:
    """The upper-case ISO 4217 code; ValueError if unknown or without a minor unit (XAU, XXX)."""
    code = value.strip().upper()
    try:
        currency = Currency(code)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code") from None
    if currency.exponent is None:
        raise ValueError(f"{code} has no minor unit, so it cannot price a plan")
    return code


def minor_units(code: str) -> int:
    """Digits after the decimal point of the currency (2 for INR, 0 for JPY)."""
    return Currency(code).exponent or 0


def format_money(amount_minor: int, currency: str) -> str:
    """`1,499.00 INR` — for receipts and messages (the app formats for its own locale)."""
    digits = minor_units(currency)
    major = amount_minor / 10**digits
    return f"{major:,.{digits}f} {currency}"
