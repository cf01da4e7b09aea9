"""The durable credential review: confirmation, reviewers told, decisions awaited.

One workflow per submission (and one per replacement document), started
after the submission's commit under an id derived from it, so a second start
is a no-op. It receives ids only. The commit itself records which workflow is
owed: each document row names its `review_workflow_id`. A process killed
between the commit and the start (the reply may be lost too) therefore leaves
a document whose workflow does not exist; `start_missing_reviews` compares the
waiting documents with DBOS's workflows and starts what is missing, at every
launch and then every `REVIEW_START_SWEEP_SECONDS` in every process. Steps are
idempotent: in-app notifications are deduplicated by key and every email
carries a stable idempotency key.

While documents wait, the workflow sleeps in `DBOS.recv` on the decision
topic: a decision wakes it at once (see `wake_review`); otherwise it wakes at
the review deadline (to escalate once to the organization's admins) or after
`review_poll_seconds` to look again.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.credentials import mailing
from clinvault.credentials.expiry import run_expiry_sweep
from clinvault.credentials.repository import CredentialRepository
from clinvault.timeutil import utcnow
from clinvault.workflows import periodic, runtime

log = structlog.get_logger(__name__)

DECISION_TOPIC = "credential-decision"
EXPIRY_SCHEDULE = "credential-expiry-daily"
REVIEW_START_SWEEP = "credential-review-starts"
REVIEW_START_SWEEP_SECONDS = 60.0
STATUS_BATCH = 200
RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 8,
    "interval_seconds": 1,
    "backoff_rate": 2,
}


def review_workflow_id(submission_id: uuid.UUID, replacement_of: uuid.UUID | None = None) -> str:
    if replacement_of is None:
        return f"credential-review-{submission_id}"
    return f"credential-review-{submission_id}-replaces-{replacement_of}"


def _ids(values: list[str]) -> list[uuid.UUID]:
    return [uuid.UUID(value) for value in values]


@DBOS.step(**RETRY)
async def send_confirmation(workflow_id: str, submission_id: str, document_ids: list[str]) -> str:
    return await mailing.send_confirmation(
        runtime.container(),
        uuid.UUID(submission_id),
        _ids(document_ids),
        key=f"{workflow_id}-confirmation",
    )


@DBOS.step(**RETRY)
async def notify_reviewers(
    workflow_id: str, submission_id: str, document_ids: list[str], review_by: str
) -> str:
    return await mailing.tell_reviewers(
        runtime.container(),
        uuid.UUID(submission_id),
        _ids(document_ids),
        date.fromisoformat(review_by),
        key=f"{workflow_id}-reviewers",
    )


@DBOS.step(**RETRY)
async def review_state(submission_id: str, document_ids: list[str]) -> dict[str, Any]:
    """Which documents are decided, how many still wait, the time to the deadline, the
    current time and the decision-mail batch length (recorded, so a replay decides alike).

    The deadline is read from the submission each time: a replacement moves it.
    """
    now = utcnow().timestamp()
    batch_seconds = runtime.container().settings.credentials.decision_mail_batch_seconds
    async with runtime.container().db.unit_of_work() as session:
        repository = CredentialRepository(session)
        rows = await repository.documents_by_ids_global(_ids(document_ids))
        submission = await repository.submission_global(uuid.UUID(submission_id))
    if submission is None:
        return {
            "decided": [],
            "pending": 0,
            "seconds_to_deadline": 0.0,
            "review_by": "",
            "now": now,
            "batch_seconds": batch_seconds,
        }
    review_by = submission.estimated_review_by
    decided = [str(d.id) for d, _, _ in rows if d.status in ("verified", "rejected")]
    pending = sum(1 for d, _, _ in rows if d.status in ("submitted", "in_review"))
    deadline = datetime.combine(review_by, datetime.min.time(), utcnow().tzinfo)
    return {
        "decided": decided,
        "pending": pending,
        "seconds_to_deadline": (deadline - utcnow()).total_seconds(),
        "review_by": review_by.isoformat(),
        "now": now,
        "batch_seconds": batch_seconds,
    }


@DBOS.step(**RETRY)
async def notify_decision(document_id: str) -> str:
    return await mailing.tell_decision(runtime.container(), uuid.UUID(document_id))


@DBOS.step(**RETRY)
async def mail_decisions(
    workflow_id: str, submission_id: str, document_ids: list[str], batch: int
) -> str:
    """One email for a batch of decisions; its key makes the batch's email exactly-once."""
    return await mailing.mail_decisions(
        runtime.container(),
        uuid.UUID(submission_id),
        _ids(document_ids),
        key=f"{workflow_id}-decisions-{batch}",
    )


@DBOS.step(**RETRY)
async def escalate(workflow_id: str, submission_id: str, pending: int, review_by: str) -> str:
    return await mailing.escalate(
        runtime.container(),
        uuid.UUID(submission_id),
        pending,
        date.fromisoformat(review_by),
        key=f"{workflow_id}-escalation",
    )


@DBOS.workflow()
async def credential_review_workflow(
    submission_id: str, document_ids: list[str], review_by: str
) -> str:
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    await send_confirmation(workflow_id, submission_id, document_ids)
    await notify_reviewers(workflow_id, submission_id, document_ids, review_by)
    poll = runtime.container().settings.credentials.review_poll_seconds
    told: set[str] = set()
    held: list[str] = []  # decided, told in-app, not yet in an email
    held_since = 0.0
    batch = 0
    escalated = False
    while True:
        state = await review_state(submission_id, document_ids)
        for document_id in state["decided"]:
            if document_id not in told:
                await notify_decision(document_id)
                told.add(document_id)
                held_since = held_since if held else state["now"]
                held.append(document_id)
        batch_due = held_since + state["batch_seconds"]
        if held and (state["pending"] == 0 or state["now"] >= batch_due):
            batch += 1
            await mail_decisions(workflow_id, submission_id, held, batch)
            held = []
        if state["pending"] == 0:
            break
        if state["seconds_to_deadline"] <= 0 and not escalated:
            await escalate(workflow_id, submission_id, state["pending"], state["review_by"])
            escalated = True
        wait = poll if escalated else min(poll, max(1.0, state["seconds_to_deadline"]))
        if held:
            wait = min(wait, max(1.0, batch_due - state["now"]))
        await DBOS.recv_async(DECISION_TOPIC, timeout_seconds=wait)
    log.info("credential.review.finished", submission_id=submission_id, escalated=escalated)
    return "reviewed"


async def launch_review(
    workflow_id: str, submission_id: uuid.UUID, document_ids: list[uuid.UUID], review_by: date
) -> None:
    """Start the review workflow under its id; a workflow of that id already there is kept."""
    with SetWorkflowID(workflow_id):
        await DBOS.start_workflow_async(
            credential_review_workflow,
            str(submission_id),
            [str(document_id) for document_id in document_ids],
            review_by.isoformat(),
        )


async def start_review(
    workflow_id: str, submission_id: uuid.UUID, document_ids: list[uuid.UUID], review_by: date
) -> None:
    """Start the review workflow (after the submission's commit); idempotent by id.

    A start that fails or cannot run here is made up by `start_missing_reviews`."""
    if not runtime.is_running():
        log.warning("credential.review.not_started", submission_id=str(submission_id))
        return
    try:
        await launch_review(workflow_id, submission_id, document_ids, review_by)
    except Exception:
        log.exception("credential.review.start_failed", submission_id=str(submission_id))


async def start_missing_reviews(container: Container) -> int:
    """Start the review of every committed submission or replacement that has none yet.

    Reads the documents still waiting (each names its workflow id, written in the
    submission's own transaction), asks DBOS which of those workflows exist, and
    starts the others. Safe beside a concurrent start: the id makes it one workflow.
    """
    async with container.db.sessions() as session:
        owed = await CredentialRepository(session).review_starts_global()
    started = 0
    for first in range(0, len(owed), STATUS_BATCH):
        batch = owed[first : first + STATUS_BATCH]
        found = await DBOS.list_workflows_async(
            workflow_ids=[workflow_id for workflow_id, *_ in batch],
            load_input=False,
            load_output=False,
        )
        existing = {status.workflow_id for status in found}
        for workflow_id, submission_id, document_ids, review_by in batch:
            if workflow_id in existing:
                continue
            try:
                await launch_review(workflow_id, submission_id, document_ids, review_by)
            except Exception:
                log.exception("credential.review.start_failed", submission_id=str(submission_id))
                continue
            started += 1
            log.warning("credential.review.start_recovered", submission_id=str(submission_id))
    return started


async def wake_review(workflow_id: str, document_id: uuid.UUID) -> None:
    """Tell a waiting review workflow that a document was decided (after the commit)."""
    if not runtime.is_running():
        return
    try:
        await DBOS.send_async(workflow_id, str(document_id), DECISION_TOPIC)
    except Exception:
        # The workflow looks again on its own after review_poll_seconds.
        log.exception("credential.review.wake_failed", document_id=str(document_id))


@DBOS.step(**RETRY)
async def expiry_sweep_step(today: str) -> dict[str, int]:
    result = await run_expiry_sweep(runtime.container(), date.fromisoformat(today))
    return {"reminded": result.reminded, "expired": result.expired, "mailed": result.mailed}


@DBOS.step(**RETRY)
async def resume_reviews_step() -> int:
    """Start any review whose start was lost (a crash between commit and start)."""
    async with runtime.container().db.unit_of_work() as session:
        awaiting = await CredentialRepository(session).review_starts_global()
    for workflow_id, submission_id, document_ids, review_by in awaiting:
        await start_review(workflow_id, submission_id, document_ids, review_by)
    return len(awaiting)


@DBOS.workflow()
async def credential_expiry_workflow(scheduled_at: datetime, _context: Any) -> None:
    await expiry_sweep_step(scheduled_at.date().isoformat())
    await resume_reviews_step()


def on_launch() -> None:
    """Install the daily expiry schedule; start missing reviews now and periodically."""
    runtime.apply_schedule(
        EXPIRY_SCHEDULE,
        credential_expiry_workflow,
        runtime.container().settings.credentials.expiry_schedule_cron,
    )
    periodic.every(
        REVIEW_START_SWEEP,
        REVIEW_START_SWEEP_SECONDS,
        lambda: start_missing_reviews(runtime.container()),
    )
