"""Signed checkpoints, the signing key files, anchor cadence and the anchor settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from clinvault.audit.checkpoints import (
    NO_PREVIOUS,
    AnchorExists,
    Checkpoint,
    Checkpointer,
    CheckpointFile,
)
from clinvault.audit.signing import (
    AuditSigningKeyError,
    CheckpointSigner,
    generate_key_pair,
    load_signer,
    load_verifier,
)
from clinvault.config import Settings

HASH = "ab" * 32


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner(Ed25519PrivateKey.generate())


def signed(signer: CheckpointSigner, chain_seq: int = 7) -> Checkpoint:
    return Checkpoint(chain_seq, HASH, "2026-01-01T00:00:00+00:00", NO_PREVIOUS).signed_with(signer)


def test_a_signed_checkpoint_round_trips_and_verifies(signer: CheckpointSigner) -> None:
    checkpoint = signed(signer)
    parsed = Checkpoint.parse(checkpoint.line())
    assert parsed == checkpoint
    assert parsed.key == signer.key_id
    assert parsed.signature_problem(signer.verifier) is None
    assert parsed.digest() == checkpoint.digest()


@pytest.mark.parametrize(
    "change",
    [
        {"chain_seq": 8},
        {"chain_hash": "cd" * 32},
        {"at": "2026-01-02T00:00:00+00:00"},
        {"prev": "ef" * 32},
    ],
)
def test_changing_any_signed_field_breaks_the_signature(
    signer: CheckpointSigner, change: dict[str, object]
) -> None:
    altered = dataclasses.replace(signed(signer), **change)  # type: ignore[arg-type]
    problem = altered.signature_problem(signer.verifier)
    assert problem == "has a signature that does not match its content (altered or forged)"


def test_another_key_and_no_signature_are_named(signer: CheckpointSigner) -> None:
    stranger = CheckpointSigner(Ed25519PrivateKey.generate())
    foreign = signed(stranger)
    assert foreign.signature_problem(signer.verifier) == (
        f"is signed by key {stranger.key_id}, not the audit key {signer.key_id}"
    )
    # Claiming the right key id does not help without the key.
    claimed = dataclasses.replace(foreign, key=signer.key_id)
    assert "does not match its content" in (claimed.signature_problem(signer.verifier) or "")
    legacy = Checkpoint.parse(f'{{"chain_seq": 3, "chain_hash": "{HASH}", "at": "x"}}')
    assert legacy.signature_problem(signer.verifier) == "is not signed"


@pytest.mark.parametrize(
    "raw",
    [
        '{"chain_seq": 1, "chain_hash": "zz"}',
        f'{{"chain_seq": 1, "chain_hash": "{"g" * 64}"}}',
        f'{{"chain_seq": 1, "chain_hash": "{HASH}", "prev": "short"}}',
        f'{{"chain_seq": 1, "chain_hash": "{HASH}", "sig": 5}}',
        f'{{"chain_seq": 0, "chain_hash": "{HASH}"}}',
        f'{{"v": 9, "chain_seq": 1, "chain_hash": "{HASH}", "sig": "x"}}',
    ],
)
def test_malformed_checkpoints_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        Checkpoint.parse(raw)


def test_first_use_generates_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    private, public = tmp_path / "keys" / "audit.pem", tmp_path / "keys" / "audit.pub"
    created = load_signer(private, public, create=True)
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.parent.stat().st_mode & 0o777 == 0o700
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert load_signer(private, public, create=True).key_id == created.key_id
    assert load_verifier(public).key_id == created.key_id


def test_a_missing_key_is_not_invented_where_creation_is_off(tmp_path: Path) -> None:
    with pytest.raises(AuditSigningKeyError, match="clinvault audit keygen"):
        load_signer(tmp_path / "absent.pem", tmp_path / "absent.pub", create=False)
    assert not (tmp_path / "absent.pem").exists()


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    private, public = tmp_path / "audit.pem", tmp_path / "audit.pub"
    generate_key_pair(private, public)
    private.chmod(0o644)
    with pytest.raises(AuditSigningKeyError, match="chmod 600"):
        load_signer(private, public, create=False)


def test_keygen_never_replaces_a_key(tmp_path: Path) -> None:
    private, public = tmp_path / "audit.pem", tmp_path / "audit.pub"
    generate_key_pair(private, public)
    before = private.read_bytes()
    with pytest.raises(AuditSigningKeyError, match="never overwritten"):
        generate_key_pair(private, public)
    assert private.read_bytes() == before


def test_a_public_key_swapped_for_another_is_refused(tmp_path: Path) -> None:
    private, public = tmp_path / "audit.pem", tmp_path / "audit.pub"
    generate_key_pair(private, public)
    generate_key_pair(tmp_path / "other.pem", tmp_path / "other.pub")
    public.write_bytes((tmp_path / "other.pub").read_bytes())
    with pytest.raises(AuditSigningKeyError, match="does not belong to the signing key"):
        load_verifier(public, private)


class Collecting:
    description = "memory://"

    def __init__(self, failing: type[Exception] | None = None) -> None:
        self.stored: list[int] = []
        self.failing = failing

    def put(self, checkpoint: Checkpoint) -> None:
        if self.failing is not None:
            raise self.failing("no")
        self.stored.append(checkpoint.chain_seq)


def test_checkpoints_chain_by_hash_and_are_anchored_at_most_every_interval(
    tmp_path: Path, signer: CheckpointSigner
) -> None:
    anchor = Collecting()
    checkpointer = Checkpointer(CheckpointFile(tmp_path / "cp.ndjson"), signer, anchor, 3600)
    first = checkpointer.record(10, HASH)
    second = checkpointer.record(20, "cd" * 32)
    assert first.prev == NO_PREVIOUS
    assert second.prev == first.digest()
    assert checkpointer.file.read() == [first, second]
    assert anchor.stored == [10]
    assert not checkpointer.anchor_pending()
    assert checkpointer.anchor_pending(force=True)
    assert anchor.stored == [10, 20]
    assert not checkpointer.anchor_pending(force=True)


def test_an_unreachable_anchor_is_retried_and_a_taken_position_counts_as_anchored(
    tmp_path: Path, signer: CheckpointSigner
) -> None:
    anchor = Collecting(failing=ConnectionError)
    checkpointer = Checkpointer(CheckpointFile(tmp_path / "cp.ndjson"), signer, anchor, 0)
    checkpointer.record(10, HASH)
    assert anchor.stored == []
    anchor.failing = None
    assert checkpointer.anchor_pending()
    assert anchor.stored == [10]
    anchor.failing = AnchorExists
    checkpointer.record(20, HASH)
    assert not checkpointer.anchor_pending(force=True)  # nothing left pending


def test_default_key_paths_lie_outside_the_data_directory(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.audit_signing_key_path == tmp_path / "keys" / "audit-signing-key.pem"
    assert settings.audit_verify_key_path == tmp_path / "keys" / "audit-signing-key.pub"
    assert settings.audit_anchor_url == ""
    with pytest.raises(ValidationError, match="must lie outside the data directory"):
        Settings(home=tmp_path, audit_signing_key_path=tmp_path / "data" / "k.pem")


@pytest.mark.parametrize(
    "url",
    ["s3://bucket/audit", "file:///mnt/anchors", "syslog://logs:514", "syslog:///dev/log"],
)
def test_anchor_urls_accepted(tmp_path: Path, url: str) -> None:
    assert Settings(home=tmp_path, audit_anchor_url=url).audit_anchor_url == url


@pytest.mark.parametrize("url", ["http://example.org/x", "s3:///prefix-only", "syslog://"])
def test_anchor_urls_refused_with_the_accepted_forms(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValidationError, match="CLINVAULT_AUDIT_ANCHOR_URL") as caught:
        Settings(home=tmp_path, audit_anchor_url=url)
    assert "s3://bucket/prefix" in str(caught.value)
