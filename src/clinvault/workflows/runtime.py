"""DBOS, launched with the app: the durable-workflow runtime.

Workflow and step functions are module-level (DBOS registers them by name at
import); they reach adapters through `container()`, set once at launch.
Every process that launches DBOS with the same system database is a worker:
pending workflows of a killed process are recovered on the next launch.
"""

from __future__ import annotations

import importlib
import threading

import structlog
from dbos import DBOS, DBOSConfig

from clinvault.bootstrap import Container

log = structlog.get_logger(__name__)

# Modules that define workflows; imported before launch so DBOS knows them.
WORKFLOW_MODULES = ("clinvault.identity.workflows",)

_lock = threading.Lock()
_container: Container | None = None
_launched = False


def container() -> Container:
    if _container is None:
        raise RuntimeError("workflow runtime not started")
    return _container


def dbos_config(settings_container: Container, executor_id: str | None = None) -> DBOSConfig:
    settings = settings_container.settings
    config: DBOSConfig = {
        "name": "clinvault",
        "system_database_url": settings.workflow_database_url,
        "log_level": "WARNING",
        "run_migrations": True,
    }
    if executor_id:
        config["executor_id"] = executor_id
    return config


def start(app_container: Container, *, executor_id: str | None = None) -> None:
    """Register workflows, launch DBOS, recover this executor's pending work."""
    global _container, _launched
    with _lock:
        _container = app_container
        if _launched:
            return
        for module in WORKFLOW_MODULES:
            importlib.import_module(module)
        if app_container.settings.is_sqlite:
            app_container.settings.home.joinpath("data").mkdir(parents=True, exist_ok=True)
        DBOS(config=dbos_config(app_container, executor_id))
        DBOS.launch()
        _launched = True
        log.info("workflows.runtime.started", executor_id=executor_id or "local")


def stop() -> None:
    global _container, _launched
    with _lock:
        if _launched:
            DBOS.destroy(destroy_registry=False)
            _launched = False
        _container = None


def is_running() -> bool:
    return _launched
