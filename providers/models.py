"""Every table the database holds, so `Base.metadata` is complete (Alembic, the test schema): the
domain's (`domain.models`) and the providers' own (the sandbox's payments and refunds)."""

from domain.models import Base
from providers.payments import sandbox_models as sandbox_payment_models

__all__ = ["Base", "sandbox_payment_models"]
