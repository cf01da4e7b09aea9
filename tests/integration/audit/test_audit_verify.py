"""`audit verify` against a real database tampered with by direct SQL."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import delete, insert, update
from tests.integration.audit.audit_support import (
    all_events,
    chained,
    make_requests,
    move_chain_seq,
    row_values,
    tamper,
)

from clinvault.audit import verify
from clinvault.audit.chain import (
    GENESIS,
    AuditChainer,
    Checkpoint,
    Checkpointer,
    CheckpointFile,
    chain_pending,
    link_hash,
)
from clinvault.audit.commands import run_verify
from clinvault.audit.recorder import mac_is_valid
from clinvault.bootstrap import Container
from clinvault.models import AuditEvent

TAMPERED = "edited or inserted outside the application"


@pytest.fixture
async def log(
    client: httpx.AsyncClient, container: Container, chainer: AuditChainer
) -> list[AuditEvent]:
    """30 request events chained in three runs: three checkpoint lines, at 10, 20 and 30."""
    for _ in range(3):
        await make_requests(client, 10)
        assert await chainer.run_once() == 10
    events = await chained(container)
    assert [event.chain_seq for event in events] == list(range(1, 31))
    return events


async def test_the_chainer_links_events_in_sequence_order(
    log: list[AuditEvent], container: Container, checkpoints: CheckpointFile
) -> None:
    key = container.audit.key
    assert [event.seq for event in log] == sorted(event.seq for event in log)
    previous = GENESIS
    for event in log:
        assert mac_is_valid(key, event)
        previous = link_hash(key, previous, event.mac)
        assert event.chain_hash == previous
    lines = checkpoints.read()
    assert [(cp.chain_seq, cp.chain_hash) for cp in lines] == [
        (position, log[position - 1].chain_hash) for position in (10, 20, 30)
    ]
    assert checkpoints.path.stat().st_mode & 0o077 == 0


async def test_an_untouched_log_verifies(log: list[AuditEvent], container: Container) -> None:
    report = await run_verify(container)
    assert report.ok, report.summary()
    assert report.first_problem is None
    assert report.events_checked == 30
    assert report.checkpoints_checked == 3
    assert report.summary() == "audit chain intact: 30 events and 3 checkpoints verified"


async def test_verify_chains_pending_events_first(
    log: list[AuditEvent], client: httpx.AsyncClient, container: Container
) -> None:
    await make_requests(client, 4)
    report = await run_verify(container)
    assert report.ok, report.summary()
    assert report.chained_now == 4
    assert report.events_checked == 34
    assert [event.chain_seq for event in await all_events(container)] == list(range(1, 35))


async def test_verify_without_chaining_checks_unchained_macs(
    log: list[AuditEvent], client: httpx.AsyncClient, container: Container
) -> None:
    await make_requests(client, 3)
    report = await run_verify(container, chain_first=False)
    assert report.ok, report.summary()
    assert (report.chained_now, report.events_checked) == (0, 33)


async def test_rows_are_streamed_in_batches(
    log: list[AuditEvent], container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify, "BATCH", 7)
    assert (await run_verify(container)).ok
    target = log[22]
    await tamper(
        container, update(AuditEvent).where(AuditEvent.seq == target.seq).values(status_code=200)
    )
    report = await run_verify(container)
    assert report.first_problem is not None
    assert report.first_problem.seq == target.seq


async def test_an_edited_row_is_named(log: list[AuditEvent], container: Container) -> None:
    target = log[9]
    await tamper(
        container,
        update(AuditEvent).where(AuditEvent.seq == target.seq).values(action="auth.login"),
    )
    report = await run_verify(container)
    assert not report.ok
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "edited"
    assert (problem.seq, problem.event_id, problem.chain_seq) == (target.seq, target.id, 10)
    assert f"seq={target.seq}" in problem.message
    assert str(target.id) in problem.message
    assert "chain_seq=10" in problem.message
    assert TAMPERED in problem.message
    assert report.problem_count == 1


async def test_a_deleted_middle_row_is_named_by_position(
    log: list[AuditEvent], container: Container
) -> None:
    await tamper(container, delete(AuditEvent).where(AuditEvent.chain_seq == 15))
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "deleted"
    assert "chain_seq 15" in problem.message
    assert problem.chain_seq == 16


async def test_a_deletion_hidden_by_renumbering_breaks_the_links(
    log: list[AuditEvent], container: Container
) -> None:
    await tamper(container, delete(AuditEvent).where(AuditEvent.chain_seq == 15))
    await move_chain_seq(container, {old: old - 1 for old in range(16, 31)})
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "reordered"
    assert problem.seq == log[15].seq
    assert problem.chain_seq == 15


async def test_swapped_rows_are_reported_as_reordered(
    log: list[AuditEvent], container: Container
) -> None:
    await move_chain_seq(container, {5: 6, 6: 5})
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "reordered"
    assert (problem.seq, problem.chain_seq) == (log[5].seq, 5)


async def test_a_forged_row_with_a_made_up_mac_is_detected(
    log: list[AuditEvent], container: Container
) -> None:
    forged_id = uuid.uuid4()
    await tamper(
        container,
        insert(AuditEvent).values(
            row_values(log[3], id=forged_id, mac="0" * 64, chain_seq=None, chain_hash=None)
        ),
    )
    report = await run_verify(container)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "inserted"
    assert problem.event_id == forged_id
    assert problem.chain_seq is None
    assert TAMPERED in problem.message
    assert report.chained_now == 0
    forged = [event for event in await all_events(container) if event.id == forged_id]
    assert forged[0].chain_seq is None


async def test_a_forged_row_appended_with_copied_chain_fields_is_detected(
    log: list[AuditEvent], container: Container
) -> None:
    last = log[-1]
    forged_id = uuid.uuid4()
    await tamper(
        container,
        insert(AuditEvent).values(
            row_values(last, id=forged_id, action="records.delete", chain_seq=31)
        ),
    )
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "inserted"
    assert (problem.event_id, problem.chain_seq) == (forged_id, 31)


async def test_a_forged_row_slipped_into_the_middle_is_detected(
    log: list[AuditEvent], container: Container
) -> None:
    await move_chain_seq(container, {old: old + 1 for old in range(10, 31)})
    forged_id = uuid.uuid4()
    await tamper(
        container,
        insert(AuditEvent).values(row_values(log[9], id=forged_id, action="records.export")),
    )
    report = await run_verify(container)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "inserted"
    assert (problem.event_id, problem.chain_seq) == (forged_id, 10)


async def test_a_truncated_tail_is_caught_by_the_checkpoints(
    log: list[AuditEvent],
    container: Container,
    client: httpx.AsyncClient,
    chainer: AuditChainer,
) -> None:
    await tamper(container, delete(AuditEvent).where(AuditEvent.chain_seq > 25))
    await make_requests(client, 2)
    assert await chainer.run_once() == 0
    report = await run_verify(container)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "truncated"
    assert "tail truncated: events after chain_seq 25 are missing" in problem.message
    assert problem.chain_seq == 26
    assert report.chained_now == 0


async def test_a_fully_emptied_log_is_caught_by_the_checkpoints(
    log: list[AuditEvent], container: Container
) -> None:
    await tamper(container, delete(AuditEvent))
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "truncated"
    assert "events after chain_seq 0 are missing" in problem.message


async def test_an_altered_checkpoint_line_fails_its_signature(
    log: list[AuditEvent], container: Container, checkpoints: CheckpointFile
) -> None:
    lines = checkpoints.path.read_text().splitlines()
    lines[1] = lines[1].replace(log[19].chain_hash or "", "ab" * 32)
    checkpoints.path.write_text("\n".join(lines) + "\n")
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "bad_signature"
    assert problem.chain_seq == 20
    assert "checkpoint line 2" in problem.message
    assert "does not match its content" in problem.message


async def test_a_checkpoint_signed_with_the_key_but_a_wrong_hash_is_a_mismatch(
    log: list[AuditEvent], container: Container, checkpointer: Checkpointer
) -> None:
    """What the signing key's holder could write: the database must still agree."""
    lines = checkpointer.path.read_text().splitlines()
    original = Checkpoint.parse(lines[1])
    forged = replace(original, chain_hash="ab" * 32).signed_with(checkpointer.signer)
    lines[1] = forged.line()
    lines[2] = (
        replace(Checkpoint.parse(lines[2]), prev=forged.digest())
        .signed_with(checkpointer.signer)
        .line()
    )
    checkpointer.path.write_text("\n".join(lines) + "\n")
    report = await run_verify(container)
    problem = report.first_problem
    assert problem is not None
    assert problem.kind == "checkpoint_mismatch"
    assert problem.chain_seq == 20
    assert "checkpoint line 2 records a different hash for chain_seq 20" in problem.message
    assert report.problem_count == 1


async def test_a_removed_checkpoint_line_breaks_the_checkpoint_links(
    log: list[AuditEvent], container: Container, checkpoints: CheckpointFile
) -> None:
    lines = checkpoints.path.read_text().splitlines()
    checkpoints.path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "checkpoint_mismatch"
    assert problem.chain_seq == 30
    assert "checkpoint line 2" in problem.message
    assert "does not follow line 1" in problem.message


async def test_an_unsigned_checkpoint_line_is_refused(
    log: list[AuditEvent], container: Container, checkpoints: CheckpointFile
) -> None:
    with checkpoints.path.open("a") as handle:
        handle.write(Checkpoint(31, "cd" * 32, "2030-01-01T00:00:00+00:00").line() + "\n")
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "bad_signature"
    assert "checkpoint line 4" in problem.message
    assert "is not signed" in problem.message


async def test_a_malformed_checkpoint_line_is_a_mismatch(
    log: list[AuditEvent], container: Container, checkpoints: CheckpointFile
) -> None:
    with checkpoints.path.open("a") as handle:
        handle.write("{not json\n")
    problem = (await run_verify(container)).first_problem
    assert problem is not None
    assert problem.kind == "checkpoint_mismatch"
    assert "checkpoint line 4" in problem.message
    assert "malformed" in problem.message


async def test_concurrent_chainers_never_share_a_position(
    client: httpx.AsyncClient, container: Container, checkpointer: Checkpointer
) -> None:
    await make_requests(client, 20)
    key = container.audit.key
    linked = await asyncio.gather(
        *(chain_pending(container.db, key, checkpointer) for _ in range(4))
    )
    assert sum(linked) == 20
    assert [event.chain_seq for event in await chained(container)] == list(range(1, 21))
    assert (await run_verify(container)).ok
