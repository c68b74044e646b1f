"""Accounts' public face: what the routes, activities and other domains call, by job.

Keyword-only functions, the session first. They raise `core.errors` exceptions, never HTTP ones.

- users (create, find, profile, contacts proven, the admin's list): `domain.accounts.users`;
- sessions and refresh-token rotation: `domain.accounts.sessions`;
- addresses: `domain.accounts.addresses`;
- the providers' customers and saved payment methods: `domain.accounts.payment_methods`.

Signing in (passwords, tokens, Firebase) is `domain.accounts.auth`; throttling,
`domain.accounts.throttle`.
"""

from __future__ import annotations

from domain.accounts.addresses import (
    add_address,
    delete_address,
    get_address,
    list_addresses,
    update_address,
)
from domain.accounts.payment_methods import (
    add_payment_method,
    delete_payment_method,
    keep_provider_method,
    list_payment_methods,
    provider_customer_id,
    remember_provider_customer,
)
from domain.accounts.sessions import (
    load_principal,
    open_session,
    revoke_all_sessions,
    revoke_by_refresh_token,
    revoke_session,
    rotate_refresh,
)
from domain.accounts.users import (
    create_user,
    find_by_identifier,
    find_by_identity,
    get_user,
    link_identity,
    list_users,
    mark_contact_verified,
    snapshot,
    update_me,
)

__all__ = [
    "add_address",
    "add_payment_method",
    "create_user",
    "delete_address",
    "delete_payment_method",
    "find_by_identifier",
    "find_by_identity",
    "get_address",
    "get_user",
    "keep_provider_method",
    "link_identity",
    "list_addresses",
    "list_payment_methods",
    "list_users",
    "load_principal",
    "mark_contact_verified",
    "open_session",
    "provider_customer_id",
    "remember_provider_customer",
    "revoke_all_sessions",
    "revoke_by_refresh_token",
    "revoke_session",
    "rotate_refresh",
    "snapshot",
    "update_address",
    "update_me",
]
