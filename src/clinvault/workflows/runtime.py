"""DBOS, launched with the app or a worker: the durable-workflow runtime.

Workflow and step functions are module-level (DBOS registers them by name at
import); they reach adapters through `container()`, set once at launch.

Where the state lives: see `clinvault.workflows.sysdb` (SQLite file beside the
application database; on PostgreSQL the application database, schema `dbos`).

Who runs what: every process that launches the runtime against the same system
database is a worker. Each holds its own executor id for as long as it runs
(`clinvault.workflows.executors`): "local" by default, so a restarted `serve`
takes back "local" and DBOS resumes the workflows it left PENDING; extra
processes take "local-2", "local-3", ... or an id given on the command line.
Work left by a process whose id nobody takes again is adopted by the others
(`clinvault.workflows.recovery`).

Recovery only replays a workflow under the same application version it started
with. The version is `WORKFLOW_VERSION`, not DBOS's default hash of the workflow
sources, so that a release does not strand workflows that wait for days (a
credential review waiting for its reviewer). Bump it when a change would replay
an in-flight workflow differently (steps added, removed or reordered) and no
`DBOS.patch()` guards the change; workflows of the old version then finish only
on processes still running the old code.

Launch from inside the running event loop (FastAPI lifespan, the worker's
main coroutine): DBOS then runs recovered and dequeued async workflows on that
loop, the one the container's database engine belongs to.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import structlog
from dbos import DBOS, DBOSConfig

from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.workflows import executors, sysdb
from clinvault.workflows.executors import ExecutorLease
from clinvault.workflows.recovery import OrphanSweeper

log = structlog.get_logger(__name__)

WORKFLOW_MODULES = (
    "clinvault.identity.workflows",
    "clinvault.identity.accounts.workflows",
    "clinvault.credentials.workflows",
    "clinvault.maintenance.workflows",
    "clinvault.prescriptions.workflows",
    "clinvault.records.appointments.workflows",
    "clinvault.careplans.workflows",
    "clinvault.ingest.workflows",
    "clinvault.audit.signals.workflows",
)
WORKFLOW_VERSION = "clinvault-workflows-1"
APP_NAME = "clinvault"
POSTGRES_POOL_SIZE = 10

_lock = threading.Lock()
_container: Container | None = None
_lease: ExecutorLease | None = None
_sweeper: OrphanSweeper | None = None


def container() -> Container:
    if _container is None:
        raise RuntimeError("workflow runtime not started")
    return _container


def apply_schedule(name: str, workflow_fn: Callable[..., Any], cron: str) -> None:
    """Install one cron schedule; call from a workflow module's `on_launch()`.

    DBOS 3 registers schedules after launch, not at import.
    """
    DBOS.apply_schedules([{"schedule_name": name, "workflow_fn": workflow_fn, "schedule": cron}])


def executor_id() -> str:
    if _lease is None:
        raise RuntimeError("workflow runtime not started")
    return _lease.executor_id


def dbos_config(settings: Settings, executor_id: str) -> DBOSConfig:
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": sysdb.system_database_url(settings),
        "executor_id": executor_id,
        "application_version": WORKFLOW_VERSION,
        "log_level": "WARNING",
        "run_migrations": True,
    }
    if not settings.is_sqlite:
        config["dbos_system_schema"] = sysdb.SYSTEM_SCHEMA
        config["sys_db_pool_size"] = POSTGRES_POOL_SIZE
    return config


def start(app_container: Container, *, executor_id: str | None = None) -> None:
    """Register workflows, lease an executor id, launch DBOS (recovering that id's work).

    Raises `executors.ExecutorIdInUse` when `executor_id` is held by another
    running process, `executors.ExecutorIdInvalid` when it is malformed.
    """
    global _container, _lease, _sweeper
    with _lock:
        _container = app_container
        if _lease is not None:
            return
        for module in WORKFLOW_MODULES:
            importlib.import_module(module)
        settings = app_container.settings
        sysdb.prepare(settings)
        lease = executors.claim(settings, executor_id)
        try:
            DBOS(config=dbos_config(settings, lease.executor_id))
            DBOS.launch()
            for module in WORKFLOW_MODULES:
                # Schedules are installed after launch in DBOS 3 (`on_launch` hooks).
                hook = getattr(importlib.import_module(module), "on_launch", None)
                if hook is not None:
                    hook()
        except BaseException:
            DBOS.destroy(destroy_registry=False)
            lease.release()
            _container = None
            raise
        _lease = lease
        _sweeper = OrphanSweeper(
            settings, lease.executor_id, settings.workflow_recovery_sweep_seconds
        )
        _sweeper.start()
        log.info("workflows.runtime.started", executor_id=lease.executor_id)


def stop(*, grace_seconds: int = 0) -> None:
    """Shut DBOS down, waiting up to `grace_seconds` for running workflows.

    Workflows still running afterwards stay PENDING under this executor id and
    resume when it is taken again (or are adopted by another process). Call it
    off the event loop when `grace_seconds` > 0, so that async workflows on the
    loop can finish meanwhile.
    """
    global _container, _lease, _sweeper
    with _lock:
        if _sweeper is not None:
            _sweeper.stop()
            _sweeper = None
        if _lease is not None:
            DBOS.destroy(destroy_registry=False, workflow_completion_timeout_sec=grace_seconds)
            _lease.release()
            log.info("workflows.runtime.stopped", executor_id=_lease.executor_id)
            _lease = None
        _container = None


def is_running() -> bool:
    return _lease is not None


BACKLOG_LIMIT = 10_000


async def backlog(statuses: tuple[str, ...]) -> dict[str, int]:
    """How many workflows of the system database are in each of `statuses` (counted up
    to BACKLOG_LIMIT in all); empty when the runtime is not launched in this process."""
    if not is_running():
        return {}
    found = await DBOS.list_workflows_async(
        status=list(statuses), load_input=False, load_output=False, limit=BACKLOG_LIMIT
    )
    counts = dict.fromkeys(statuses, 0)
    for workflow in found:
        counts[workflow.status] = counts.get(workflow.status, 0) + 1
    return counts
