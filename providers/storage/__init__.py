"""Photo stores: a local folder (embedded default); an S3-compatible bucket by S3_BUCKET. They
implement `domain.storage.PhotoStore`."""

from __future__ import annotations

from core.settings import Settings
from domain.storage import PhotoStore
from providers.storage.local import LocalStore, uploads_root


def photo_store(settings: Settings) -> PhotoStore:
    """The store the settings name; boto3 is imported only when a bucket is set."""
    if settings.s3_bucket:
        from providers.storage.s3 import S3Store

        return S3Store.from_settings(settings)
    return LocalStore(uploads_root(settings.uploads_dir))


__all__ = ["LocalStore", "photo_store", "uploads_root"]
