"""Check the audit log against its key and its checkpoints.

In chain order: every row's MAC (an edited or forged row fails it), chain
positions contiguous from 1 (a gap means deleted events), every chain_hash
recomputed from its predecessor (a deletion hidden by renumbering, or a
reorder, breaks it); then every unchained row's MAC; then every checkpoint
line: its signature must hold under the audit verify key, it must name the
line before it (`prev`), the event at its position must exist with its exact
hash, and no checkpoint may lie beyond the last chained event (a truncated
tail). Last the external anchor, when there is one: its newest validly
signed checkpoint is reported, and a log shorter than it, or whose hash at
its position differs, is refused. That is what catches a host where both the
database and the local checkpoint file were cut back together.

Rows and checkpoint lines are streamed in batches, so memory stays flat
whatever the size of the log.
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
from clinvault.audit.chain import GENESIS, chain_pending, link_hash
from clinvault.audit.checkpoints import (
    NO_PREVIOUS,
    Anchored,
    AnchorReader,
    Checkpoint,
    Checkpointer,
    CheckpointFile,
)
from clinvault.audit.recorder import mac_is_valid
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
TAMPERED = "edited or inserted outside the application"


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


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    events_checked: int
    first_problem: Problem | None
    problem_count: int = 0
    checkpoints_checked: int = 0
    chained_now: int = 0
    anchor: AnchorStatus | None = None
    anchored_checked: int = 0
    anchor_note: str | None = None
    key_id: str | None = None

    def anchor_summary(self) -> str:
        """One line on the external anchor: its newest checkpoint, or why there is none."""
        if self.anchor is not None:
            found = self.anchor
            checked = _count(self.anchored_checked, "anchored checkpoint")
            return (
                f"newest anchored checkpoint: chain_seq {found.chain_seq} written {found.at} "
                f"in {found.sink} ({found.where}); {checked} checked"
            )
        return self.anchor_note or "no external anchor configured: local checkpoint file only"

    def summary(self) -> str:
        if self.first_problem is None:
            return (
                f"audit chain intact: {_count(self.events_checked, 'event')} and "
                f"{_count(self.checkpoints_checked, 'checkpoint')} verified"
            )
        more = self.problem_count - 1
        tail = f" ({_count(more, 'further problem')})" if more > 0 else ""
        return f"audit chain BROKEN: {self.first_problem.message}{tail}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _name(event: AuditEvent) -> str:
    position = "unchained" if event.chain_seq is None else f"chain_seq={event.chain_seq}"
    return f"event seq={event.seq} id={event.id} {position}"


class _Findings:
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


class _ChainWalk:
    """State carried from one chained row to the next.

    A row failing its MAC while its own link holds is judged by its successor:
    if the next row links from it, the row was there when chained (edited);
    if not, it was slipped in with a copied hash (inserted).
    """

    def __init__(self, key: bytes, findings: _Findings) -> None:
        self.key = key
        self.findings = findings
        self.expected = 1
        self.previous = GENESIS
        self.checked = 0
        self.suspect: AuditEvent | None = None

    def _judge_suspect(self, successor_links: bool) -> None:
        suspect, self.suspect = self.suspect, None
        if suspect is not None:
            kind: ProblemKind = "edited" if successor_links else "inserted"
            self.findings.add(kind, f"{_name(suspect)} fails its MAC: {TAMPERED}", suspect)

    def visit(self, event: AuditEvent) -> None:
        self.checked += 1
        position = int(event.chain_seq or 0)
        mac_ok = mac_is_valid(self.key, event)
        link = link_hash(self.key, self.previous, event.mac or "")
        link_ok = hmac.compare_digest(link, event.chain_hash or "")
        if position < self.expected:
            self._judge_suspect(successor_links=True)
            self.findings.add(
                "inserted",
                f"{_name(event)} claims a chain position already taken: {TAMPERED}",
                event,
            )
            return
        gap = position > self.expected
        self._judge_suspect(successor_links=link_ok or gap)
        if gap:
            missing = (
                f"chain_seq {self.expected}"
                if position == self.expected + 1
                else f"chain_seq {self.expected} to {position - 1}"
            )
            self.findings.add(
                "deleted",
                f"events at {missing} are missing (deleted) before {_name(event)}",
                event,
            )
        elif not link_ok and mac_ok:
            self.findings.add(
                "reordered",
                f"{_name(event)} does not follow from chain_seq {position - 1}: "
                "events were deleted, reordered or renumbered",
                event,
            )
        if not mac_ok:
            if link_ok or gap:
                self.suspect = event
            else:
                self.findings.add("inserted", f"{_name(event)} fails its MAC: {TAMPERED}", event)
        self.expected = position + 1
        self.previous = event.chain_hash or ""

    def finish(self) -> None:
        self._judge_suspect(successor_links=True)


async def _walk_chain(db: Database, walk: _ChainWalk) -> int:
    """Visit every chained row in chain order; return the last position seen."""
    last = 0
    while True:
        async with db.sessions() as session:
            batch = await repository.chained_events(session, after_chain_seq=last, limit=BATCH)
        for event in batch:
            walk.visit(event)
            last = int(event.chain_seq or last)
        if len(batch) < BATCH:
            walk.finish()
            return last


async def _unchained_macs(db: Database, key: bytes, findings: _Findings | None) -> tuple[int, int]:
    """MAC-check unchained rows; return (rows checked, rows failing)."""
    checked = failed = 0
    after = 0
    while True:
        async with db.sessions() as session:
            batch = await repository.unchained_events(session, after_seq=after, limit=BATCH)
        for event in batch:
            checked += 1
            after = event.seq
            if not mac_is_valid(key, event):
                failed += 1
                if findings is not None:
                    findings.add("inserted", f"{_name(event)} fails its MAC: {TAMPERED}", event)
        if len(batch) < BATCH:
            return checked, failed


def _next_lines(
    lines: Iterator[tuple[int, Checkpoint | None]],
) -> list[tuple[int, Checkpoint | None]]:
    return list(itertools.islice(lines, BATCH))


async def _check_checkpoints(
    db: Database,
    checkpoints: CheckpointFile,
    verifier: CheckpointVerifier,
    until: int,
    head: int,
    findings: _Findings,
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
    where: str, checkpoint: Checkpoint, before: tuple[int, Checkpoint] | None, findings: _Findings
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


def _compare(label: str, checkpoint: Checkpoint, actual: str | None, findings: _Findings) -> None:
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
    entry: Anchored, where: str, verifier: CheckpointVerifier, findings: _Findings
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


async def _check_anchor(
    db: Database,
    anchor: AnchorReader,
    verifier: CheckpointVerifier,
    head: int,
    findings: _Findings,
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


async def verify_chain(
    db: Database,
    key: bytes,
    checkpoints: CheckpointFile,
    verifier: CheckpointVerifier,
    *,
    chainer: Checkpointer | None = None,
    anchor: AnchorReader | None = None,
    anchor_note: str | None = None,
) -> VerifyReport:
    """Verify the whole audit log; report the first problem in chain order.

    With a `chainer`, pending events are linked before checking, unless one of
    them already fails its MAC: a forged row is then reported as unchained
    instead of being given a place in the chain. Without one (a verify-only
    machine holding just the public key) nothing is written.
    """
    chained_now = 0
    if chainer is not None:
        _, failing = await _unchained_macs(db, key, None)
        if failing == 0:
            chained_now = await chain_pending(db, key, chainer)
    checkpoint_bytes = checkpoints.size()
    findings = _Findings()
    walk = _ChainWalk(key, findings)
    head = await _walk_chain(db, walk)
    unchained, _ = await _unchained_macs(db, key, findings)
    checked_lines = await _check_checkpoints(
        db, checkpoints, verifier, checkpoint_bytes, head, findings
    )
    status = None
    anchored = 0
    if anchor is not None:
        status, anchored = await _check_anchor(db, anchor, verifier, head, findings)
        if status is None and anchor_note is None:
            anchor_note = f"no validly signed checkpoint in {anchor.description} yet"
    return VerifyReport(
        ok=findings.first is None,
        events_checked=walk.checked + unchained,
        first_problem=findings.first,
        problem_count=findings.count,
        checkpoints_checked=checked_lines,
        chained_now=chained_now,
        anchor=status,
        anchored_checked=anchored,
        anchor_note=anchor_note,
        key_id=verifier.key_id,
    )
