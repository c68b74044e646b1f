"""Inputs and outputs of the accounts API. Inputs forbid unknown fields, so a customer cannot set
`role` (or anything else not listed) through their own profile."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_validator,
)

from core.errors import FieldProblem
from domain.accounts.models import Role, User
from domain.contracts import Channel, VerificationStatus
from domain.types import Email, Flag, Name, Password, Phone, ShortText


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- sign-up and sign-in ------------------------------------------------------------------------


class RegisterIn(In):
    email: Email | None = None
    phone: Phone | None = None
    password: Password
    name: Name | None = None

    @model_validator(mode="after")
    def _one_contact(self) -> RegisterIn:
        if self.email is None and self.phone is None:
            raise FieldProblem("email", "give an email or a phone number")
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "asha@example.com", "password": "correct horse battery", "name": "Asha"},
                {"phone": "+919812345678", "password": "correct horse battery"},
            ],
            # What `_one_contact` checks, said in the schema for generated clients.
            "anyOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
                {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
            ],
        },
    )


class LoginIn(In):
    identifier: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)
    ] = Field(description="The account's email address or phone number (international format)")
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshIn(In):
    refresh_token: Annotated[str, StringConstraints(min_length=20, max_length=200)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires")


class WebUser(Out):
    """Who signed in to the admin panel, and what they may do there."""

    id: uuid.UUID
    name: str | None
    email: str | None
    roles: list[Role] = Field(description="The account's roles (today one: admin or support)")

    @classmethod
    def of(cls, user: User) -> WebUser:
        return cls(id=user.id, name=user.name, email=user.email, roles=[Role(user.role)])


class WebSessionOut(BaseModel):
    """A web sign-in: the access token, kept in the page's memory only. The refresh token is
    not here: it is the HttpOnly cookie `hp_refresh`, which scripts cannot read."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires")
    user: WebUser


class PhoneStartIn(In):
    phone: Phone


class PhoneLoginIn(In):
    phone: Phone
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]


class CodeIn(In):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]


class FirebaseIn(In):
    id_token: Annotated[str, StringConstraints(min_length=20, max_length=8192)]


class VerificationOut(BaseModel):
    channel: Channel
    status: VerificationStatus
    attempts_left: int
    resends_left: int
    expires_at: datetime | None
    resend_available_at: datetime | None


class PasswordChangeIn(In):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


# --- profile ------------------------------------------------------------------------------------


class UserOut(Out):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    email_verified: bool
    phone_verified: bool
    role: Role
    created_at: datetime

    @computed_field(  # type: ignore[prop-decorator]
        description="The account's roles (today one each), as the admin panel reads"
    )
    @property
    def roles(self) -> list[Role]:
        return [self.role]


class UserUpdateMe(In):
    """What a user may change about themselves. No role, no verification flags."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None


class RegisteredOut(BaseModel):
    user: UserOut
    tokens: TokenPair
    verification: VerificationOut | None


Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AddressIn(In):
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None = None
    line1: ShortText
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: City
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postal_code: PostalCode
    country: Country = Field(description="ISO 3166-1 alpha-2 code, e.g. IN")
    is_default: Flag = False


class AddressUpdate(In):
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None = None
    line1: ShortText | None = None
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: City | None = None
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    is_default: Literal[True] | None = Field(
        default=None, description="Make this the default address (unset by choosing another)"
    )


class AddressOut(Out):
    id: uuid.UUID
    label: str | None
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    is_default: bool


ProviderToken = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$"
    ),
]


class PaymentMethodIn(In):
    """A payment method already saved at the provider, referred to by the provider's token.
    Card numbers are refused: they must go to the provider, never to us."""

    provider: Literal["sandbox", "stripe", "razorpay"]
    provider_method_id: ProviderToken
    provider_customer_id: ProviderToken | None = None
    kind: Literal["card", "upi", "wallet", "netbanking"]
    brand: Annotated[str, StringConstraints(max_length=32)] | None = None
    last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] | None = None
    exp_month: Annotated[int, Field(ge=1, le=12)] | None = None
    exp_year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    is_default: Flag = False

    @model_validator(mode="after")
    def _not_a_card_number(self) -> PaymentMethodIn:
        for name in ("provider_method_id", "provider_customer_id"):
            digits = (getattr(self, name) or "").replace("-", "").replace("_", "")
            if digits.isdigit() and 12 <= len(digits) <= 19:
                raise FieldProblem(
                    name, "that looks like a card number; send the provider's token instead"
                )
        return self


class PaymentMethodOut(Out):
    id: uuid.UUID
    provider: str
    kind: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    created_at: datetime


# --- admin --------------------------------------------------------------------------------------


class AdminUserUpdate(In):
    role: Role | None = None
    is_active: Flag | None = None
    name: Name | None = None


class AdminUserOut(UserOut):
    is_active: bool
    updated_at: datetime
