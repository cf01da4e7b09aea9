"""The real app in a process of its own, to be SIGKILLed inside an import job.

    python -m tests.integration.ingest.kill_runner HOME DATABASE_URL (start|resume)

`start` creates an organization and a clerk, uploads FILE_ROWS rows through the
signed URL (batches of BATCH_ROWS), and holds the job inside its fourth batch,
after that batch's rows were inserted but before its transaction commits: three
batches are committed, one is in flight. It writes the job id to `kill.json`,
touches the gate and waits to be killed. `resume` starts the app again, which
recovers the job's workflow; it prints the final state once the workflow ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from dbos import DBOS
from tests.conftest import make_settings
from tests.factories import create_org
from tests.integration.ingest.support import importer, relative, ticket

from clinvault.ingest.workflows import import_workflow_id
from clinvault.main import create_app
from clinvault.migrate import upgrade_async
from clinvault.records.imports.service import RecordImportService

BATCH_ROWS = 50
FILE_ROWS = 600
HELD_BATCH = 4
INVALID_EVERY = 37  # rows 37, 74, ...: an impossible date
REPEAT_EVERY = 53  # rows 53, 106, ...: the same visit as the row before it
START = datetime(2024, 1, 1, tzinfo=UTC)


def facts_path(home: Path) -> Path:
    return home / "kill.json"


def gate_path(home: Path) -> Path:
    return home / "held-in-batch"


def visit_rows() -> list[str]:
    rows = []
    for n in range(1, FILE_ROWS + 1):
        source = n - 1 if n % REPEAT_EVERY == 0 else n
        mrn = f"K-{source % 40:03d}"
        when = (START + timedelta(minutes=7 * source)).isoformat()
        if n % INVALID_EVERY == 0:
            when = "2025-02-30" + when[10:]
        rows.append(f"{mrn},Pat{source % 40},Kill,{when},Visit {source}: notes.\n")
    return rows


def expected() -> dict[str, int]:
    """Counts the finished job must show (see visit_rows)."""
    invalid = {n for n in range(1, FILE_ROWS + 1) if n % INVALID_EVERY == 0}
    # A repeat is "already present" unless the row it repeats was rejected.
    repeats = {
        n
        for n in range(1, FILE_ROWS + 1)
        if n % REPEAT_EVERY == 0 and n not in invalid and (n - 1) not in invalid
    }
    return {
        "rows_read": FILE_ROWS,
        "rows_rejected": len(invalid),
        "rows_present": len(repeats),
        "rows_inserted": FILE_ROWS - len(invalid) - len(repeats),
    }


def hold_inside_batch(home: Path) -> None:
    real = RecordImportService.write_batch
    calls = 0

    async def held(self: RecordImportService, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        outcome = await real(self, *args, **kwargs)
        if calls == HELD_BATCH:
            await self.session.flush()
            gate_path(home).touch()
            await asyncio.Event().wait()
        return outcome

    RecordImportService.write_batch = held  # type: ignore[method-assign]


async def start(home: Path, client: httpx.AsyncClient, app: Any) -> str:
    container = app.state.container
    org = await create_org(container)
    clerk = await importer(client, container, org)
    granted = await ticket(client, clerk, filename="kill.csv")
    body = "medical_record_number,first_name,last_name,date_time,doctors_notes\n"
    response = await client.put(
        relative(granted["url"]), content=(body + "".join(visit_rows())).encode()
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    facts_path(home).write_text(json.dumps({"job_id": job_id, "org": str(org.id)}))
    await asyncio.Event().wait()
    return "unreachable"


async def resume(home: Path) -> str:
    facts = json.loads(facts_path(home).read_text())
    handle = await DBOS.retrieve_workflow_async(import_workflow_id(uuid.UUID(facts["job_id"])))
    result: str = await handle.get_result()
    return result


async def run(args: argparse.Namespace) -> str:
    home = Path(args.home)
    settings = make_settings(home, args.database_url, ingest={"batch_rows": BATCH_ROWS})
    await upgrade_async(settings)
    if args.mode == "start":
        hold_inside_batch(home)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if args.mode == "resume":
            return await resume(home)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await start(home, client, app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home")
    parser.add_argument("database_url")
    parser.add_argument("mode", choices=["start", "resume"])
    print(asyncio.run(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
