"""External anchors: an attacker holding the database host cannot rewrite the evidence.

The attacker below has write access to the database and to the local
checkpoint file, and cuts both back together, consistently: the local file
alone no longer shows anything. The anchor (S3 Object Lock on a real S3 API
server, an append-only directory, syslog) still does.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete
from tests.integration.audit.audit_support import chained, make_requests, tamper

from clinvault.audit.anchors import SYSLOG_MARKER, DirectoryAnchor, entry_name
from clinvault.audit.chain import Checkpoint, Checkpointer, chain_pending
from clinvault.audit.checkpoints import AnchorExists
from clinvault.audit.commands import open_checkpointer, run_verify
from clinvault.audit.signing import CheckpointSigner
from clinvault.bootstrap import Container
from clinvault.models import AuditEvent


def with_anchor(container: Container, url: str, endpoint: str | None = None) -> Container:
    """The same container, configured with an anchor that takes every checkpoint."""
    settings = container.settings.model_copy(
        update={
            "audit_anchor_url": url,
            "s3_endpoint_url": endpoint,
            "audit_anchor_interval_seconds": 0.0,
        }
    )
    return dataclasses.replace(container, settings=settings)


async def chain_in_three_runs(
    client: httpx.AsyncClient, container: Container, checkpointer: Checkpointer
) -> None:
    """30 events, chained 10 at a time: checkpoints (and anchors) at 10, 20 and 30."""
    for _ in range(3):
        await make_requests(client, 10)
        assert await chain_pending(container.db, container.audit.key, checkpointer) == 10
    assert [event.chain_seq for event in await chained(container)] == list(range(1, 31))


async def cut_back_to(container: Container, checkpointer: Checkpointer, position: int) -> None:
    """The attack: delete the tail of the log and the checkpoint lines that name it."""
    await tamper(container, delete(AuditEvent).where(AuditEvent.chain_seq > position))
    kept = [
        line
        for line in checkpointer.path.read_text().splitlines()
        if Checkpoint.parse(line).chain_seq <= position
    ]
    checkpointer.path.write_text("".join(f"{line}\n" for line in kept))


@pytest.fixture
def s3_anchored(
    container: Container, s3_endpoint: str, lock_bucket: str, s3_credentials: None
) -> Container:
    return with_anchor(container, f"s3://{lock_bucket}/audit/checkpoints", s3_endpoint)


# ---- S3 Object Lock -------------------------------------------------------------------------


async def test_each_checkpoint_becomes_a_compliance_locked_object(
    client: httpx.AsyncClient, s3_anchored: Container, s3: Any, lock_bucket: str
) -> None:
    checkpointer = open_checkpointer(s3_anchored.settings)
    await chain_in_three_runs(client, s3_anchored, checkpointer)
    listed = s3.list_objects_v2(Bucket=lock_bucket, Prefix="audit/checkpoints/")
    keys = [item["Key"] for item in listed["Contents"]]
    assert keys == [f"audit/checkpoints/{entry_name(n)}" for n in (10, 20, 30)]
    retention = s3_anchored.settings.audit_anchor_retention_days
    verifier = checkpointer.signer.verifier
    for key in keys:
        head = s3.head_object(Bucket=lock_bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = head["ObjectLockRetainUntilDate"]
        expected = datetime.now(UTC) + timedelta(days=retention)
        assert abs((until - expected).total_seconds()) < 300
        body = s3.get_object(Bucket=lock_bucket, Key=key)["Body"].read().decode()
        checkpoint = Checkpoint.parse(body)
        assert checkpoint.signature_problem(verifier) is None
    report = await run_verify(s3_anchored)
    assert report.ok, report.summary()
    assert report.anchor is not None
    assert report.anchor.chain_seq == 30
    assert report.anchor.sink == f"s3://{lock_bucket}/audit/checkpoints/"
    assert report.anchored_checked == 3
    assert report.anchor_summary().startswith(
        f"newest anchored checkpoint: chain_seq 30 written {report.anchor.at} "
        f"in s3://{lock_bucket}/audit/checkpoints/"
    )


async def test_cutting_log_and_checkpoint_file_together_is_caught_by_the_s3_anchor(
    client: httpx.AsyncClient, container: Container, s3_anchored: Container
) -> None:
    checkpointer = open_checkpointer(s3_anchored.settings)
    await chain_in_three_runs(client, s3_anchored, checkpointer)
    await cut_back_to(container, checkpointer, 20)

    local_only = await run_verify(container)
    assert local_only.ok, "the attack must be invisible to the local checkpoint file alone"

    report = await run_verify(s3_anchored)
    assert not report.ok
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "truncated"
    assert problem.chain_seq == 21
    assert "the log is shorter than its anchor: events after chain_seq 20 are missing" in (
        problem.message
    )
    assert "records chain_seq 30" in problem.message
    assert report.anchor is not None
    assert report.anchor.chain_seq == 30


async def test_a_log_grown_back_past_the_cut_still_disagrees_with_the_anchor(
    client: httpx.AsyncClient, container: Container, s3_anchored: Container
) -> None:
    checkpointer = open_checkpointer(s3_anchored.settings)
    await chain_in_three_runs(client, s3_anchored, checkpointer)
    await cut_back_to(container, checkpointer, 20)
    await make_requests(client, 15)
    assert await chain_pending(container.db, container.audit.key, checkpointer) == 15

    report = await run_verify(s3_anchored)
    assert report.anchor is not None
    assert report.anchor.chain_seq == 35
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "checkpoint_mismatch"
    assert problem.chain_seq == 30
    assert "the log's hash at chain_seq 30 is not the one anchored" in problem.message


async def test_locked_anchor_objects_cannot_be_deleted_or_replaced(
    client: httpx.AsyncClient,
    container: Container,
    s3_anchored: Container,
    s3: Any,
    lock_bucket: str,
) -> None:
    checkpointer = open_checkpointer(s3_anchored.settings)
    await chain_in_three_runs(client, s3_anchored, checkpointer)
    key = f"audit/checkpoints/{entry_name(30)}"
    original = s3.get_object(Bucket=lock_bucket, Key=key)
    version, body = original["VersionId"], original["Body"].read()

    # What the server refuses: removing the locked version, even asking to bypass governance.
    for extra in ({}, {"BypassGovernanceRetention": True}):
        with pytest.raises(ClientError) as refused:
            s3.delete_object(Bucket=lock_bucket, Key=key, VersionId=version, **extra)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # What it allows, and why verify reads every version: a delete marker hides the key
    # from a plain listing, and a second write adds a version on top.
    s3.delete_object(Bucket=lock_bucket, Key=key)
    listed = s3.list_objects_v2(Bucket=lock_bucket, Prefix="audit/checkpoints/")
    assert key not in [item["Key"] for item in listed.get("Contents", [])]
    copied = s3.get_object(Bucket=lock_bucket, Key=f"audit/checkpoints/{entry_name(20)}")
    s3.put_object(Bucket=lock_bucket, Key=key, Body=copied["Body"].read())
    kept = s3.get_object(Bucket=lock_bucket, Key=key, VersionId=version)["Body"].read()
    assert kept == body

    # Our own writer never overwrites: a second put of the same position is refused.
    anchor = checkpointer.anchor
    assert anchor is not None
    with pytest.raises(AnchorExists):
        anchor.put(Checkpoint.parse(body.decode()))

    await cut_back_to(container, checkpointer, 20)
    report = await run_verify(s3_anchored)
    assert report.anchor is not None
    assert report.anchor.chain_seq == 30
    kinds = report.first_problem
    assert kinds is not None
    assert kinds.kind == "checkpoint_mismatch"
    assert "holds the checkpoint of chain_seq 20: it was copied there" in kinds.message
    assert report.problem_count == 2  # the copied version, and the truncation


async def test_anchored_checkpoints_with_bad_signatures_are_refused(
    client: httpx.AsyncClient, s3_anchored: Container, s3: Any, lock_bucket: str
) -> None:
    checkpointer = open_checkpointer(s3_anchored.settings)
    await chain_in_three_runs(client, s3_anchored, checkpointer)
    stranger = CheckpointSigner(Ed25519PrivateKey.generate())
    foreign = Checkpoint(40, "ab" * 32, "2030-01-01T00:00:00+00:00", "0" * 64)
    s3.put_object(
        Bucket=lock_bucket,
        Key=f"audit/checkpoints/{entry_name(40)}",
        Body=foreign.signed_with(stranger).line().encode(),
    )
    report = await run_verify(s3_anchored)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "bad_signature"
    assert problem.chain_seq == 40
    assert f"is signed by key {stranger.key_id}, not the audit key" in problem.message
    assert report.anchor is not None
    assert report.anchor.chain_seq == 30

    genuine = Checkpoint.parse(
        s3.get_object(Bucket=lock_bucket, Key=f"audit/checkpoints/{entry_name(30)}")["Body"]
        .read()
        .decode()
    )
    altered = dataclasses.replace(genuine, chain_seq=50)
    s3.put_object(
        Bucket=lock_bucket,
        Key=f"audit/checkpoints/{entry_name(50)}",
        Body=altered.line().encode(),
    )
    report = await run_verify(s3_anchored)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "bad_signature"
    assert problem.chain_seq == 50
    assert "signature that does not match its content" in problem.message


async def test_only_the_public_key_is_needed_to_verify(
    client: httpx.AsyncClient, s3_anchored: Container, tmp_path: Path
) -> None:
    checkpointer = open_checkpointer(s3_anchored.settings)
    await chain_in_three_runs(client, s3_anchored, checkpointer)
    public = s3_anchored.settings.audit_verify_key_path
    assert public is not None
    copy = tmp_path / "auditor" / "audit.pub"
    copy.parent.mkdir()
    copy.write_bytes(public.read_bytes())
    auditor = dataclasses.replace(
        s3_anchored,
        settings=s3_anchored.settings.model_copy(
            update={
                "audit_signing_key_path": tmp_path / "auditor" / "absent.pem",
                "audit_verify_key_path": copy,
            }
        ),
    )
    report = await run_verify(auditor, chain_first=False)
    assert report.ok, report.summary()
    assert report.key_id == checkpointer.signer.key_id
    assert report.anchor is not None
    assert report.anchor.chain_seq == 30
    assert not (tmp_path / "auditor" / "absent.pem").exists()


# ---- append-only directory ------------------------------------------------------------------


async def test_a_directory_anchor_catches_the_cut_and_forged_files(
    client: httpx.AsyncClient, container: Container, tmp_path: Path
) -> None:
    directory = tmp_path / "other-host" / "anchors"
    anchored = with_anchor(container, f"file://{directory}")
    checkpointer = open_checkpointer(anchored.settings)
    await chain_in_three_runs(client, anchored, checkpointer)
    names = sorted(path.name for path in directory.iterdir())
    assert names == [entry_name(n) for n in (10, 20, 30)]
    assert all((directory / name).stat().st_mode & 0o777 == 0o444 for name in names)
    with pytest.raises(AnchorExists):
        DirectoryAnchor(directory).put(Checkpoint.parse((directory / names[0]).read_text()))
    assert (await run_verify(anchored)).ok

    await cut_back_to(container, checkpointer, 20)
    assert (await run_verify(container)).ok
    report = await run_verify(anchored)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "truncated"
    assert "events after chain_seq 20 are missing" in problem.message
    assert report.anchor is not None
    assert (report.anchor.chain_seq, report.anchor.where) == (30, f"file {entry_name(30)}")

    forged = directory / entry_name(45)
    forged.write_text(Checkpoint(45, "cd" * 32, "2030-01-01T00:00:00+00:00").line())
    problem = (await run_verify(anchored)).first_problem
    assert problem is not None
    assert problem.kind == "bad_signature"
    assert f"file {entry_name(45)}" in problem.message
    assert "is not signed" in problem.message


# ---- syslog ---------------------------------------------------------------------------------


@pytest.fixture
def syslog_receiver() -> Iterator[socket.socket]:
    """A UDP syslog server on a free local port."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    yield receiver
    receiver.close()


async def test_syslog_anchor_lines_catch_the_cut(
    client: httpx.AsyncClient,
    container: Container,
    syslog_receiver: socket.socket,
    tmp_path: Path,
) -> None:
    port = syslog_receiver.getsockname()[1]
    anchored = with_anchor(container, f"syslog://127.0.0.1:{port}?facility=local3")
    checkpointer = open_checkpointer(anchored.settings)
    await chain_in_three_runs(client, anchored, checkpointer)
    received = [syslog_receiver.recv(65535).decode() for _ in range(3)]
    # <PRI>: local3 (19) * 8 + info (6)
    assert all(line.startswith(f"<{19 * 8 + 6}>{SYSLOG_MARKER}") for line in received)
    positions = [json.loads(line.split(SYSLOG_MARKER, 1)[1])["chain_seq"] for line in received]
    assert positions == [10, 20, 30]
    kept = tmp_path / "syslog.log"
    kept.write_text("".join(f"Dec  6 12:00:00 app {line}\n" for line in received))

    write_only = await run_verify(anchored)
    assert write_only.ok
    assert write_only.anchor is None
    assert "is write-only from here: pass --anchor-log" in write_only.anchor_summary()

    await cut_back_to(container, checkpointer, 20)
    report = await run_verify(anchored, anchor_log=kept)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "truncated"
    assert report.anchor is not None
    assert (report.anchor.chain_seq, report.anchor.where) == (30, "line 3")
