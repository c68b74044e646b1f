"""Imports every domain's tables so `Base.metadata` holds them all (the ORM resolves every foreign
key). The providers' own tables join them in `providers.models`, which Alembic and the test schema
read."""

from core.db import Base
from domain.accounts import models as accounts_models
from domain.audit import models as audit_models
from domain.campaigns import models as campaign_models
from domain.catalog import models as catalog_models
from domain.notifications import models as notification_models
from domain.orders import models as order_models
from domain.reports import models as report_models
from domain.service_requests import models as service_request_models
from domain.subscriptions import models as subscription_models
from domain.support import models as support_models
from domain.technicians import models as technician_models

__all__ = [
    "Base",
    "accounts_models",
    "audit_models",
    "campaign_models",
    "catalog_models",
    "notification_models",
    "order_models",
    "report_models",
    "service_request_models",
    "subscription_models",
    "support_models",
    "technician_models",
]
