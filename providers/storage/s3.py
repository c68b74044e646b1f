"""Photos in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, ...), through boto3.

boto3 is synchronous: every call runs in a worker thread. One client serves every thread (boto3
clients are thread-safe; its sessions are not, so the client is made once, here).
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.settings import Settings
from domain.storage import ObjectMissing, check_key


class S3Store:
    name = "s3"

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        import boto3
        from botocore.config import Config

        if not settings.s3_bucket:
            raise ValueError("the S3 photo store needs S3_BUCKET")
        secret = settings.s3_secret_access_key
        # Empty means unset (compose passes every variable, set or not).
        endpoint_url = settings.s3_endpoint_url or None
        config = Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"mode": "standard", "max_attempts": 3},
            # S3-compatible servers (MinIO, a local one in tests) are reached at one host name
            # with the bucket in the path; AWS itself takes either.
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=settings.s3_region or None,
            # Unset: boto3's own chain (environment, instance role, ~/.aws).
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=(secret.get_secret_value() if secret else None) or None,
            config=config,
        )
        return cls(client, settings.s3_bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=check_key(key),
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, check_key(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=check_key(key))

    def _get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey as exc:
            raise ObjectMissing(key) from exc
        body = answer["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()
