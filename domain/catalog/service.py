"""The catalog's public face: what the routes and the checkout call, by job.

Keyword-only functions, the session first; they raise `core.errors` exceptions, never HTTP ones,
and never commit. Every function that changes the catalog writes an audit entry (who, before,
after) and replaces the catalog's revision token in the caller's transaction, so the change, its
record and the public caches' invalidation commit or roll back together.

- categories: `domain.catalog.categories`;
- reading plans (public and admin): `domain.catalog.queries`;
- changing plans (the versioning rule): `domain.catalog.plans`;
- selling (prices with tax, versions marked sold): `domain.catalog.selling`;
- places in the catalog: `domain.catalog.ordering`; what an admin is told before a risky change:
  `domain.catalog.impact`; the revision token the public cache is keyed by:
  `domain.catalog.revision`.
"""

from __future__ import annotations

from domain.catalog.categories import (
    create_category,
    get_category,
    list_admin_categories,
    list_categories,
    update_category,
)
from domain.catalog.queries import (
    get_plan,
    get_public_plan,
    get_version,
    list_plans,
    list_public_plans,
    list_versions,
)
from domain.catalog.revision import read_revision
from domain.catalog.selling import lock_version_for_sale, mark_versions_sold, price_breakdown

__all__ = [
    "create_category",
    "get_category",
    "get_plan",
    "get_public_plan",
    "get_version",
    "list_admin_categories",
    "list_categories",
    "list_plans",
    "list_public_plans",
    "list_versions",
    "lock_version_for_sale",
    "mark_versions_sold",
    "price_breakdown",
    "read_revision",
    "update_category",
]
