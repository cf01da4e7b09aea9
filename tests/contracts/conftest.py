"""Real protocol peers for the contract suites: moto's server speaks the S3, KMS and SES APIs."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.conftest import service_missing

REGION = "us-east-1"


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    server: Any
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A client with test credentials only, whatever the environment holds (cached)."""
        if service not in self.clients:
            self.clients[service] = self._new_client(service)
        return self.clients[service]

    def _new_client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id="clinvault-test",
            aws_secret_access_key="clinvault-test-secret",
            region_name=REGION,
        ).client(
            service,
            endpoint_url=self.endpoint,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4" if service == "s3" else None,
                retries={"max_attempts": 2},
            ),
        )

    def new_bucket(self) -> str:
        name = f"clinvault-{uuid.uuid4().hex[:16]}"
        self.client("s3").create_bucket(Bucket=name)
        return name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def use_test_aws_chain(patch: pytest.MonkeyPatch) -> None:
    """Adapters built by the factories read the usual AWS chain: point it at test values."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        patch.delenv(name, raising=False)
    patch.setenv("AWS_ACCESS_KEY_ID", "clinvault-test")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "clinvault-test-secret")
    patch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto in server mode on a free 127.0.0.1 port for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        service_missing(f"moto[server] is not installed: {exc}")
        raise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        use_test_aws_chain(patch)
        yield MotoServer(f"http://127.0.0.1:{port}", server)
    server.stop()
