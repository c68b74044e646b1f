"""The signed-in user's own profile, password, addresses and saved payment methods.

Everything here is scoped to the caller: another user's address or payment method is a 404,
exactly like one that does not exist.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api import verifications
from api.deps import (
    AuthDep,
    ClientDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    reads_only,
)
from api.pagination import at_most
from api.problems import problems
from domain.accounts import service as accounts
from domain.accounts import throttle
from domain.accounts.addresses import MAX_ADDRESSES
from domain.accounts.payment_methods import MAX_PAYMENT_METHODS
from domain.accounts.schemas import (
    AddressIn,
    AddressOut,
    AddressUpdate,
    PasswordChangeIn,
    PaymentMethodIn,
    PaymentMethodOut,
    TokenPair,
    UserOut,
    UserUpdateMe,
)
from domain.contracts import Channel, VerificationPurpose

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=UserOut)
@reads_only
async def read_me(user: CurrentUser) -> UserOut:
    """The signed-in user's profile."""
    return UserOut.model_validate(user)


@router.patch("", response_model=UserOut, responses=problems(409, 429))
async def update_me(
    body: UserUpdateMe,
    user: CurrentUser,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> UserOut:
    """Change name, email or phone; a changed contact must be verified again (a code is sent)."""
    # A new contact gets a code: the change is limited like any code sent.
    for new, old in ((body.email, user.email), (body.phone, user.phone)):
        if new is not None and new != old:
            await throttle.spend(
                db, auth.code_budgets(client, destination=new, account=str(user.id))
            )
    to_verify = await accounts.update_me(db, user=user, changes=body)
    await db.commit()
    for channel in to_verify:
        destination = user.email if channel == Channel.email else user.phone
        assert destination is not None
        await verifications.start(
            temporal,
            settings,
            user_id=user.id,
            channel=channel,
            destination=destination,
            purpose=VerificationPurpose.verify,
            restart=True,
        )
    return UserOut.model_validate(user)


@router.post("/password", response_model=TokenPair, responses=problems(401, 429))
async def change_password(
    body: PasswordChangeIn, user: CurrentUser, db: SessionDep, auth: AuthDep, client: ClientDep
) -> TokenPair:
    """Change the password. Every session ends; the new tokens returned are this device's."""
    tokens = await auth.change_password(
        db, user=user, current=body.current_password, new=body.new_password, client=client
    )
    await db.commit()
    return tokens


@router.get("/addresses", response_model=at_most(AddressOut, MAX_ADDRESSES))
async def list_addresses(user: CurrentUser, db: SessionDep) -> list[AddressOut]:
    """The user's addresses, the default first."""
    rows = await accounts.list_addresses(db, user_id=user.id)
    return [AddressOut.model_validate(row) for row in rows]


@router.post(
    "/addresses",
    response_model=AddressOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def add_address(body: AddressIn, user: CurrentUser, db: SessionDep) -> AddressOut:
    """Add an address (at most 20); the first one becomes the default."""
    address = await accounts.add_address(db, user_id=user.id, data=body)
    await db.commit()
    return AddressOut.model_validate(address)


@router.get("/addresses/{address_id}", response_model=AddressOut, responses=problems(404))
async def read_address(address_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> AddressOut:
    """One of the user's addresses."""
    return AddressOut.model_validate(
        await accounts.get_address(db, user_id=user.id, address_id=address_id)
    )


@router.patch("/addresses/{address_id}", response_model=AddressOut, responses=problems(404, 409))
async def update_address(
    address_id: uuid.UUID, body: AddressUpdate, user: CurrentUser, db: SessionDep
) -> AddressOut:
    """Change an address, or make it the default."""
    address = await accounts.update_address(db, user_id=user.id, address_id=address_id, data=body)
    await db.commit()
    await db.refresh(address)
    return AddressOut.model_validate(address)


@router.delete(
    "/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404)
)
async def delete_address(address_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> None:
    """Remove an address; if it was the default, the oldest remaining one becomes default."""
    await accounts.delete_address(db, user_id=user.id, address_id=address_id)
    await db.commit()


@router.get("/payment-methods", response_model=at_most(PaymentMethodOut, MAX_PAYMENT_METHODS))
async def list_payment_methods(user: CurrentUser, db: SessionDep) -> list[PaymentMethodOut]:
    """Saved payment methods (provider tokens and display hints only)."""
    rows = await accounts.list_payment_methods(db, user_id=user.id)
    return [PaymentMethodOut.model_validate(row) for row in rows]


@router.post(
    "/payment-methods",
    response_model=PaymentMethodOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def add_payment_method(
    body: PaymentMethodIn, user: CurrentUser, db: SessionDep
) -> PaymentMethodOut:
    """Save a payment method the provider already holds, by its token (never a card number)."""
    method = await accounts.add_payment_method(db, user_id=user.id, data=body)
    await db.commit()
    return PaymentMethodOut.model_validate(method)


@router.delete(
    "/payment-methods/{method_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404)
)
async def delete_payment_method(method_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> None:
    """Forget a saved payment method."""
    await accounts.delete_payment_method(db, user_id=user.id, method_id=method_id)
    await db.commit()
