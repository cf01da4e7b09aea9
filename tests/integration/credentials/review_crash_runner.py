"""The real app in a process of its own, to be SIGKILLed inside the review workflow.

    python -m tests.integration.credentials.review_crash_runner HOME DATABASE_URL (start|resume)

`start` submits two documents through the HTTP API, with the reviewer
notification held at a gate (after the confirmation email went out), and waits
there to be killed. `resume` starts the app again, which recovers the workflow;
it then decides both documents as the reviewer and exits 0 with "done" once the
workflow has succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from dbos import DBOS
from tests.conftest import make_settings
from tests.factories import auth_headers, create_org, create_user, login
from tests.integration.credentials.support import metadata, pdf_file

from clinvault.credentials import mailing
from clinvault.credentials.workflows import review_workflow_id
from clinvault.identity.principal import Role
from clinvault.main import create_app
from clinvault.migrate import upgrade_async

GATE = "before-reviewers"


def gate_path(home: Path, state: str) -> Path:
    return home / "gates" / f"{GATE}.{state}"


def facts_path(home: Path) -> Path:
    return home / "crash.json"


def hold_reviewer_notice(home: Path) -> None:
    real = mailing.tell_reviewers

    async def held(*args: Any, **kwargs: Any) -> str:
        waiting = gate_path(home, "waiting")
        waiting.parent.mkdir(parents=True, exist_ok=True)
        waiting.touch()
        while not gate_path(home, "open").exists():
            await asyncio.sleep(0.05)
        return await real(*args, **kwargs)

    mailing.tell_reviewers = held  # type: ignore[assignment]


async def start(home: Path, client: httpx.AsyncClient, app: Any) -> str:
    container = app.state.container
    org = await create_org(container)
    reviewer = await create_user(container, org, roles=[Role.CREDENTIALING_REVIEWER])
    doctor = await create_user(container, org, roles=[Role.DOCTOR])
    headers = auth_headers((await login(client, doctor.email))["access_token"])
    profile = await client.put(
        "/api/credentials/profile", json={"npi": "1234567893"}, headers=headers
    )
    assert profile.status_code == 200, profile.text
    files = [pdf_file("license.pdf", 1), pdf_file("board.pdf", 2)]
    entries = [metadata("medical_license"), metadata("board_certification")]
    response = await client.post(
        "/api/credentials/submissions",
        headers=headers,
        data={"metadata": json.dumps(entries, default=date.isoformat)},
        files=[("files", spec) for spec in files],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    document = await client.get(
        f"/api/credentials/documents/{body['documents'][0]['id']}", headers=headers
    )
    submission_id = await _submission_id(container, body["reference"])
    facts = {
        "reference": body["reference"],
        "workflow_id": review_workflow_id(uuid.UUID(submission_id)),
        "documents": [d["id"] for d in body["documents"]],
        "practitioner": doctor.email,
        "reviewer": reviewer.email,
        "filename": document.json()["filename"],
    }
    facts_path(home).write_text(json.dumps(facts))
    await asyncio.Event().wait()
    return "unreachable"


async def _submission_id(container: Any, reference: str) -> str:
    import sqlalchemy as sa

    from clinvault.models.credentials import CredentialSubmission

    async with container.db.sessions() as session:
        found = await session.scalar(
            sa.select(CredentialSubmission.id).where(CredentialSubmission.reference == reference)
        )
    return str(found)


async def resume(home: Path, client: httpx.AsyncClient) -> str:
    facts = json.loads(facts_path(home).read_text())
    headers = auth_headers((await login(client, facts["reviewer"]))["access_token"])
    for document_id in facts["documents"]:
        decided = await client.post(
            f"/api/credentials/documents/{document_id}/decision",
            json={"decision": "verified"},
            headers=headers,
        )
        assert decided.status_code == 200, decided.text
    handle = await DBOS.retrieve_workflow_async(facts["workflow_id"])
    result: str = await handle.get_result()
    assert result == "reviewed"
    return "done"


async def run(args: argparse.Namespace) -> str:
    home = Path(args.home)
    settings = make_settings(home, args.database_url)
    await upgrade_async(settings)
    if args.mode == "start":
        hold_reviewer_notice(home)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            if args.mode == "start":
                return await start(home, client, app)
            return await resume(home, client)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home")
    parser.add_argument("database_url")
    parser.add_argument("mode", choices=["start", "resume"])
    print(asyncio.run(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
