"""A workflow to kill mid-flight: a marker row, a gate, a mail, an optional gate.

Gates are files under <home>/gates: a step announces `<name>.waiting` and waits
for `<name>.open`, so a test decides exactly where the process is when it dies.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dbos import DBOS
from sqlalchemy import text

from clinvault.mail.ports import OutgoingMail
from clinvault.workflows import runtime

MARKER_TABLE = "crash_markers"
RECIPIENT = "crash-test@example.org"


def gate_path(home: Path, name: str, state: str) -> Path:
    return home / "gates" / f"{name}.{state}"


async def create_marker_table() -> None:
    async with runtime.container().db.unit_of_work() as session:
        await session.execute(
            text(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (workflow_id VARCHAR(100) NOT NULL)")
        )


async def _wait_at_gate(name: str) -> None:
    home = runtime.container().settings.home
    waiting = gate_path(home, name, "waiting")
    waiting.parent.mkdir(parents=True, exist_ok=True)
    waiting.touch()
    while not gate_path(home, name, "open").exists():
        await asyncio.sleep(0.05)


@DBOS.step()
async def record_marker(workflow_id: str) -> None:
    async with runtime.container().db.unit_of_work() as session:
        await session.execute(
            text(f"INSERT INTO {MARKER_TABLE} (workflow_id) VALUES (:workflow_id)"),
            {"workflow_id": workflow_id},
        )


@DBOS.step()
async def wait_for_release() -> None:
    await _wait_at_gate("before-mail")


@DBOS.step()
async def send_notice(workflow_id: str, hold_after_sending: bool) -> None:
    await runtime.container().mailer.send(
        OutgoingMail(
            to=(RECIPIENT,),
            subject="Your request was processed",
            text="Your request was processed.",
            idempotency_key=f"{workflow_id}:notice",
        )
    )
    if hold_after_sending:
        await _wait_at_gate("after-mail")


@DBOS.workflow()
async def crash_workflow(hold_after_sending: bool) -> str:
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    await record_marker(workflow_id)
    await wait_for_release()
    await send_notice(workflow_id, hold_after_sending)
    return "done"
