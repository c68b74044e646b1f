"""A real S3-compatible HTTP server on this machine (moto's), for the photo store's tests: boto3
talks to it over HTTP exactly as it would to AWS or MinIO."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from core.settings import Settings

REGION = "us-east-1"
KEY_ID = "test-key-id"
SECRET = "test-secret-key"


@dataclass
class LocalS3:
    endpoint_url: str
    bucket: str

    def client(self) -> Any:
        """A client of our own, to look at the bucket beside the store under test."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )

    def settings(self, settings: Settings) -> Settings:
        """`settings` with photos in this server's bucket."""
        return settings.model_copy(
            update={
                "s3_bucket": self.bucket,
                "s3_endpoint_url": self.endpoint_url,
                "s3_region": REGION,
                "s3_access_key_id": KEY_ID,
                "s3_secret_access_key": SecretStr(SECRET),
            }
        )


@contextmanager
def local_s3(bucket: str = "photos") -> Iterator[LocalS3]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = LocalS3(f"http://{host}:{port}", bucket)
        s3.client().create_bucket(Bucket=bucket)
        yield s3
    finally:
        server.stop()
