"""A committed submission whose review start was lost gets its review, once.

The request path starts the review after the commit; a process killed in
between leaves the rows (naming their workflow id) and no workflow. The sweep
run at every launch and periodically (`start_missing_reviews`) must find it and
start it; a second sweep, or a late start from the request, changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
import sqlalchemy as sa
from dbos import DBOS
from tests.factories import create_org, mails_to, signed_in, wait_for_mail
from tests.integration.credentials.support import metadata, pdf_file, practitioner, submitted

from clinvault.bootstrap import Container
from clinvault.credentials import workflows
from clinvault.identity.principal import Role
from clinvault.models.credentials import CredentialSubmission


async def _submission_id(container: Container, reference: str) -> uuid.UUID:
    async with container.db.sessions() as session:
        found = await session.scalar(
            sa.select(CredentialSubmission.id).where(CredentialSubmission.reference == reference)
        )
    assert found is not None
    return found


async def _exists(workflow_id: str) -> bool:
    return bool(await DBOS.list_workflows_async(workflow_ids=[workflow_id], load_input=False))


async def test_a_lost_review_start_is_made_up_by_the_sweep_exactly_once(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    _, _reviewer = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    user, headers = await practitioner(client, container, org)

    async def lost(*_args: object) -> None:
        """The process died after the commit, before the start."""

    monkeypatch.setattr(workflows, "start_review", lost)
    created = await submitted(
        client, headers, files=[pdf_file("a.pdf", 1)], entries=[metadata("medical_license")]
    )
    monkeypatch.undo()
    submission_id = await _submission_id(container, created["reference"])
    workflow_id = workflows.review_workflow_id(submission_id)
    assert not await _exists(workflow_id)

    assert await workflows.start_missing_reviews(container) == 1
    assert await _exists(workflow_id)
    await wait_for_mail(container, user.email, "received")
    # Nothing is owed any more: a second sweep, and a late start, are no-ops.
    assert await workflows.start_missing_reviews(container) == 0
    review_by = date.fromisoformat(created["estimated_review_by"])
    await workflows.start_review(workflow_id, uuid.uuid4(), [], review_by)
    found = await DBOS.list_workflows_async(workflow_ids=[workflow_id], load_input=True)
    assert len(found) == 1
    assert found[0].input is not None
    assert found[0].input["args"][0] == str(submission_id)
    confirmations = [m for m in mails_to(container, user.email) if "received" in str(m["Subject"])]
    assert len(confirmations) == 1


async def test_reviews_started_normally_are_left_alone(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    await submitted(
        client, headers, files=[pdf_file("a.pdf", 1)], entries=[metadata("medical_license")]
    )
    assert await workflows.start_missing_reviews(container) == 0
