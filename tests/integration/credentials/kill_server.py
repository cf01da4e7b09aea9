"""The real app behind uvicorn on a TCP port, for the upload kill test.

    python -m tests.integration.credentials.kill_server HOME DATABASE_URL

Imports the application once, then, for each line `serve PORT` on stdin, forks
a server process and prints its pid: the test SIGKILLs servers many times, and
a fork starts in about a second where a fresh interpreter takes ten on a busy
machine. The parent holds no threads, event loop or connections when it forks.
Each server migrates, creates a reviewer and a practitioner with an NPI on the
first run (their addresses go to HOME/kill.json), then serves until killed.
`/api/health/health` answers once the lifespan (workflow launch included) ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import uvicorn
from tests.factories import create_org, create_user

from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.identity.principal import Role
from clinvault.main import create_app
from clinvault.migrate import upgrade_async
from clinvault.models.credentials import PractitionerProfile


def facts_path(home: Path) -> Path:
    return home / "kill.json"


async def _setup(home: Path, container: Container) -> None:
    if facts_path(home).exists():
        return
    org = await create_org(container)
    reviewer = await create_user(container, org, roles=[Role.CREDENTIALING_REVIEWER])
    doctor = await create_user(container, org, roles=[Role.DOCTOR])
    async with container.db.unit_of_work() as session:
        session.add(
            PractitionerProfile(
                organization_id=org.id, user_id=doctor.id, npi="1234567893", specialty=""
            )
        )
    facts = {"practitioner": doctor.email, "reviewer": reviewer.email}
    facts_path(home).write_text(json.dumps(facts))


async def serve(home: Path, database_url: str, port: int) -> None:
    # As tests.conftest.make_settings, without importing the test suite's fixtures.
    settings = Settings(
        env="test",
        home=home,
        database_url=database_url,
        log_json=True,
        log_level="WARNING",
        audit_chain_interval_seconds=3600.0,
        security={"cookie_secure": True},  # type: ignore[arg-type]
    )
    await upgrade_async(settings)
    app = create_app(settings)
    await _setup(home, app.state.container)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    await uvicorn.Server(config).serve()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home")
    parser.add_argument("database_url")
    args = parser.parse_args()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed servers are reaped at once
    for line in sys.stdin:
        command, _, port = line.strip().partition(" ")
        if command != "serve":
            continue
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                asyncio.run(serve(Path(args.home), args.database_url, int(port)))
            finally:
                os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
