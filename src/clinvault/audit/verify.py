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

import hmac
from dataclasses import dataclass

from clinvault.audit import repository
from clinvault.audit.chain import GENESIS, chain_pending, link_hash
from clinvault.audit.checkpoints import (
    AnchorReader,
    Checkpointer,
    CheckpointFile,
)
from clinvault.audit.recorder import mac_is_valid
from clinvault.audit.signing import CheckpointVerifier
from clinvault.audit.verify_checkpoints import (
    AnchorStatus,
    Findings,
    Problem,
    ProblemKind,
    check_anchor,
    check_checkpoints,
)
from clinvault.db import Database
from clinvault.models.audit import AuditEvent

__all__ = ["AnchorStatus", "Problem", "ProblemKind", "VerifyReport", "verify_chain"]

BATCH = 1000
TAMPERED = "edited or inserted outside the application"


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


class _ChainWalk:
    """State carried from one chained row to the next.

    A row failing its MAC while its own link holds is judged by its successor:
    if the next row links from it, the row was there when chained (edited);
    if not, it was slipped in with a copied hash (inserted).
    """

    def __init__(self, key: bytes, findings: Findings) -> None:
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


async def _unchained_macs(db: Database, key: bytes, findings: Findings | None) -> tuple[int, int]:
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
    findings = Findings()
    walk = _ChainWalk(key, findings)
    head = await _walk_chain(db, walk)
    unchained, _ = await _unchained_macs(db, key, findings)
    checked_lines = await check_checkpoints(
        db, checkpoints, verifier, checkpoint_bytes, head, findings
    )
    status = None
    anchored = 0
    if anchor is not None:
        status, anchored = await check_anchor(db, anchor, verifier, head, findings)
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
