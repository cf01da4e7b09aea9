"""`serve`, `worker` and `migrate`: the long-running processes and the schema.

Alembic, uvicorn and DBOS are imported by the command that needs them, so that
the other commands start quickly.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from clinvault.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    fail,
    load_settings,
    open_container,
    reported_errors,
)
from clinvault.config import Settings, announce_listen_address
from clinvault.heap import limit_arenas

APP_FACTORY = "clinvault.main:create_served_app"
GRACEFUL_SHUTDOWN_SECONDS = 20
# With --workers, uvicorn kills a worker that does not answer its supervisor's ping in
# time (5 s by default). A worker importing the application holds the GIL for seconds
# on a busy host, so at that default a loaded machine kills every worker before it has
# started, over and over, and the server never comes up.
WORKER_HEALTHCHECK_SECONDS = 120
DEFAULT_GRACE_SECONDS = 20


def _check_configuration(settings: Settings) -> None:
    """Fail fast, in one line, on what every process would otherwise fail on later.

    That includes an object store or key service that cannot be used (a missing
    bucket, a disabled KMS key, an unreachable endpoint): the message names the fix.
    """
    container = open_container(settings)

    async def check_and_close() -> None:
        try:
            await container.storage.check()
            await container.keys.check()
        finally:
            await container.close()

    asyncio.run(check_and_close())


def _upgrade(settings: Settings) -> None:
    from clinvault.migrate import upgrade

    upgrade(settings)


def migrate_schema(settings: Settings) -> None:
    """Check the configuration, then bring the schema up to date (what `migrate` does)."""
    _check_configuration(settings)
    _upgrade(settings)


def migrate() -> None:
    """Bring the database schema up to date (safe to run on every deploy)."""
    settings = load_settings()
    with reported_errors():
        migrate_schema(settings)
    typer.echo("database schema is up to date")


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on (default: CLINVAULT_HOST, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="TCP port (default: CLINVAULT_PORT, 8000)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes; each also runs workflows.")
    ] = 1,
    run_migrations: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Migrate the schema first.")
    ] = True,
) -> None:
    """Run the API, the portal and the in-process workflow runtime."""
    import uvicorn

    settings = load_settings()
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    announce_listen_address(host, port)
    with reported_errors():
        _check_configuration(settings)
        if run_migrations:
            _upgrade(settings)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def worker(
    executor_id: Annotated[
        str | None,
        typer.Option(
            help="Executor id to hold (default: the first free of local, local-2, ...). "
            "A restarted worker given its previous id resumes that id's pending workflows.",
        ),
    ] = None,
    grace: Annotated[
        int,
        typer.Option(min=0, help="Seconds running workflows get to finish on SIGTERM."),
    ] = DEFAULT_GRACE_SECONDS,
) -> None:
    """Run durable workflows only, until SIGTERM or SIGINT."""
    from clinvault.workflows.executors import ExecutorIdInUse, ExecutorIdInvalid, check_executor_id
    from clinvault.workflows.worker import WorkflowsDisabled, run_worker

    settings = load_settings()
    limit_arenas()
    with reported_errors():
        try:
            if executor_id is not None:
                check_executor_id(executor_id)
            run_worker(settings, executor_id=executor_id, grace_seconds=grace)
        except (ExecutorIdInvalid, WorkflowsDisabled) as error:
            fail(str(error), EXIT_USAGE)
        except ExecutorIdInUse as error:
            fail(str(error), EXIT_FAILED)
