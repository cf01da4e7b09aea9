"""The checks of `audit verify` that look outside the database.

The local checkpoint file (every line: signature, link to the line before,
hash at its position, nothing beyond the head) and the external anchor
(every entry: well formed, validly signed, where it belongs, hash at its
position; the newest one not beyond the head).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from clinvault.audit import repository
from clinvault.audit.checkpoints import (
    NO_PREVIOUS,
    Anchored,
    AnchorReader,
    Checkpoint,
    CheckpointFile,
)
from clinvault.audit.signing import CheckpointVerifier
from clinvault.db import Database
from clinvault.models.audit import AuditEvent

ProblemKind = Literal[
    "edited",
    "inserted",
    "deleted",
    "reordered",
    "truncated",
    "checkpoint_mismatch",
    "bad_signature",
]
BATCH = 1000


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str
    seq: int | None = None
    event_id: uuid.UUID | None = None
    chain_seq: int | None = None


@dataclass(frozen=True, slots=True)
class AnchorStatus:
    """The newest validly signed checkpoint found in the external anchor."""

    sink: str
    chain_seq: int
    at: str
    where: str


class Findings:
    """Every problem counted; the first one kept, in the order found."""

    def __init__(self) -> None:
        self.first: Problem | None = None
        self.count = 0

    def add(self, kind: ProblemKind, message: str, event: AuditEvent | None = None) -> None:
        self.count += 1
        if self.first is None:
            self.first = Problem(
                kind=kind,
                message=message,
                seq=event.seq if event is not None else None,
                event_id=event.id if event is not None else None,
                chain_seq=event.chain_seq if event is not None else None,
            )

    def add_position(self, kind: ProblemKind, message: str, chain_seq: int) -> None:
        self.count += 1
        if self.first is None:
            self.first = Problem(kind=kind, message=message, chain_seq=chain_seq)


def _next_lines(
    lines: Iterator[tuple[int, Checkpoint | None]],
) -> list[tuple[int, Checkpoint | None]]:
    return list(itertools.islice(lines, BATCH))


async def check_checkpoints(
    db: Database,
    checkpoints: CheckpointFile,
    verifier: CheckpointVerifier,
    until: int,
    head: int,
    findings: Findings,
) -> int:
    """Compare every checkpoint line with the key and the database; return lines checked."""
    lines = checkpoints.scan(until)
    checked = 0
    newest: tuple[int, Checkpoint] | None = None
    before: tuple[int, Checkpoint] | None = None
    while batch := await asyncio.to_thread(_next_lines, lines):
        checked += len(batch)
        wanted = [cp.chain_seq for _, cp in batch if cp is not None and cp.chain_seq <= head]
        async with db.sessions() as session:
            stored = await repository.chain_hashes_at(session, wanted)
        for number, checkpoint in batch:
            label = f"checkpoint line {number}"
            where = f"{label} of {checkpoints.path}"
            if checkpoint is None:
                findings.add("checkpoint_mismatch", f"{where} is malformed")
                continue
            position = checkpoint.chain_seq
            signature = checkpoint.signature_problem(verifier)
            if signature is not None:
                findings.add_position(
                    "bad_signature",
                    f"{where} {signature}: the file was altered or written without the "
                    "audit signing key",
                    position,
                )
                before = (number, checkpoint)
                continue
            _check_link(where, checkpoint, before, findings)
            before = (number, checkpoint)
            if position > head:
                if newest is None or position > newest[1].chain_seq:
                    newest = (number, checkpoint)
                continue
            _compare(label, checkpoint, stored.get(position), findings)
    if newest is not None:
        number, checkpoint = newest
        findings.add_position(
            "truncated",
            f"tail truncated: events after chain_seq {head} are missing "
            f"(checkpoint line {number}, written {checkpoint.at}, records chain_seq "
            f"{checkpoint.chain_seq})",
            head + 1,
        )
    return checked


def _check_link(
    where: str, checkpoint: Checkpoint, before: tuple[int, Checkpoint] | None, findings: Findings
) -> None:
    if before is None:
        if checkpoint.prev != NO_PREVIOUS:
            findings.add_position(
                "checkpoint_mismatch",
                f"{where} names a previous checkpoint the file no longer holds: "
                "lines before it were removed",
                checkpoint.chain_seq,
            )
        return
    number, previous = before
    if checkpoint.prev != previous.digest():
        findings.add_position(
            "checkpoint_mismatch",
            f"{where} does not follow line {number}: checkpoint lines were removed, "
            "reordered or inserted",
            checkpoint.chain_seq,
        )


def _compare(label: str, checkpoint: Checkpoint, actual: str | None, findings: Findings) -> None:
    position = checkpoint.chain_seq
    if actual is None:
        findings.add_position(
            "deleted",
            f"{label} names chain_seq {position}, which is missing from the database (deleted)",
            position,
        )
    elif not hmac.compare_digest(actual, checkpoint.chain_hash):
        findings.add_position(
            "checkpoint_mismatch",
            f"{label} records a different hash for chain_seq "
            f"{position} than the database holds: the event or the checkpoint was altered",
            position,
        )


def _next_anchored(entries: Iterator[Anchored]) -> list[Anchored]:
    return list(itertools.islice(entries, BATCH))


def _usable_anchored(
    entry: Anchored, where: str, verifier: CheckpointVerifier, findings: Findings
) -> Checkpoint | None:
    """The entry's checkpoint when it is well formed, validly signed and where it belongs."""
    checkpoint = entry.checkpoint
    if checkpoint is None:
        findings.add("checkpoint_mismatch", f"{where} is malformed")
        return None
    signature = checkpoint.signature_problem(verifier)
    if signature is not None:
        findings.add_position(
            "bad_signature",
            f"{where} {signature}: it was not written by clinvault",
            checkpoint.chain_seq,
        )
        return None
    if entry.named_seq is not None and entry.named_seq != checkpoint.chain_seq:
        findings.add_position(
            "checkpoint_mismatch",
            f"{where} holds the checkpoint of chain_seq {checkpoint.chain_seq}: "
            "it was copied there",
            entry.named_seq,
        )
        return None
    return checkpoint


async def check_anchor(
    db: Database,
    anchor: AnchorReader,
    verifier: CheckpointVerifier,
    head: int,
    findings: Findings,
) -> tuple[AnchorStatus | None, int]:
    """Hold the log to every anchored checkpoint; return the newest and how many were read.

    Every entry counts, not only the newest: after a truncation the chain
    grows again from the cut, and its new checkpoints would agree with the
    database while the older anchored ones at the same positions do not.
    """
    entries = anchor.newest_first()
    newest: tuple[Anchored, Checkpoint] | None = None
    read = 0
    while batch := await asyncio.to_thread(_next_anchored, entries):
        read += len(batch)
        usable: list[tuple[Anchored, Checkpoint]] = []
        for entry in batch:
            where = f"anchored checkpoint {entry.where} in {anchor.description}"
            checkpoint = _usable_anchored(entry, where, verifier, findings)
            if checkpoint is None:
                continue
            usable.append((entry, checkpoint))
            if newest is None or checkpoint.chain_seq > newest[1].chain_seq:
                newest = (entry, checkpoint)
        wanted = [cp.chain_seq for _, cp in usable if cp.chain_seq <= head]
        async with db.sessions() as session:
            stored = await repository.chain_hashes_at(session, wanted)
        for entry, checkpoint in usable:
            if checkpoint.chain_seq > head:
                continue
            actual = stored.get(checkpoint.chain_seq)
            if actual is None or not hmac.compare_digest(actual, checkpoint.chain_hash):
                findings.add_position(
                    "checkpoint_mismatch",
                    f"the log's hash at chain_seq {checkpoint.chain_seq} is not the one "
                    f"anchored ({entry.where} in {anchor.description}, written "
                    f"{checkpoint.at}): events up to it were altered, deleted or replaced",
                    checkpoint.chain_seq,
                )
    if newest is None:
        return None, read
    entry, checkpoint = newest
    if checkpoint.chain_seq > head:
        findings.add_position(
            "truncated",
            f"the log is shorter than its anchor: events after chain_seq {head} are "
            f"missing, but the newest anchored checkpoint ({entry.where} in "
            f"{anchor.description}, written {checkpoint.at}) records chain_seq "
            f"{checkpoint.chain_seq}",
            head + 1,
        )
    status = AnchorStatus(
        sink=anchor.description,
        chain_seq=checkpoint.chain_seq,
        at=checkpoint.at,
        where=entry.where,
    )
    return status, read
