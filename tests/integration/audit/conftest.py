"""Fixtures for the audit tests: the app's chainer, its checkpointer and checkpoint file."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from tests.conftest import service_missing

from clinvault.audit.chain import AuditChainer, Checkpointer, CheckpointFile
from clinvault.bootstrap import Container


@pytest.fixture
def chainer(app: FastAPI) -> AuditChainer:
    built: AuditChainer = app.state.audit_chainer
    return built


@pytest.fixture
def checkpoints(container: Container) -> CheckpointFile:
    path = container.settings.audit_checkpoint_path
    assert path is not None
    return CheckpointFile(path)


@pytest.fixture
def checkpointer(chainer: AuditChainer) -> Checkpointer:
    return chainer.checkpointer


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API: moto's server on a free local port."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        service_missing(f"moto[server] is not installed: {exc}")
        raise
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "clinvault-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "clinvault-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def s3(s3_endpoint: str, s3_credentials: None) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


@pytest.fixture
def lock_bucket(s3: Any) -> str:
    """A fresh bucket created with Object Lock, as the anchor needs."""
    name = f"clinvault-anchors-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name
