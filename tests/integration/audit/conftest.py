"""Fixtures for the audit tests: the app's chainer, its checkpointer and checkpoint file."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

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
