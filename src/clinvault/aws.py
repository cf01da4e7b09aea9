"""boto3 clients for the AWS adapters (S3, KMS, SES): bounded timeouts, standard retries.

Credentials and the default region come from the usual AWS chain (environment,
profile, task role); an endpoint URL points a client at another implementation
of the same API (MinIO, LocalStack, moto).
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30


def aws_client(service: str, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 client with bounded timeouts and standard retries (thread-safe)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=32,
        s3={"addressing_style": "path"} if endpoint_url else None,
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.session.Session().client(
        service, endpoint_url=endpoint_url or None, region_name=region, config=config
    )
