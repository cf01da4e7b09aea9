"""Executor ids for durable workflows: each held by exactly one live process.

DBOS tags every workflow with the executor id of the process that runs it, and
at launch re-enqueues the PENDING workflows tagged with its own id: that is how
a killed process's work resumes. Two live processes sharing an id would each
recover the other's in-flight workflows and run them twice, so a process holds
its id through a lease for as long as it runs:

* SQLite (one host by construction): an exclusive `flock` on
  `<home>/data/executors/<id>.lock`;
* PostgreSQL (any number of hosts): a session advisory lock in the application
  database, on a connection of its own with server-side TCP keepalives, so that
  the lock also goes when a whole host vanishes.

The kernel or the server drops a lease the moment its process dies, SIGKILL
included, so a dead process's id is free again at once.

Ids given explicitly (`clinvault worker --executor-id ...`) are waited for
briefly, then refused while another process holds them. Without one, a process
takes the first free slot of "local", "local-2", "local-3", ...: a restarted
`serve` takes back "local" and resumes what its previous run left pending, and
the replacement of one dead process among several takes the slot it freed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
from pathlib import Path
from typing import Protocol

import psycopg
import structlog

from clinvault.config import Settings
from clinvault.workflows.sysdb import libpq_url

log = structlog.get_logger(__name__)

DEFAULT_EXECUTOR_ID = "local"
MAX_SLOTS = 64
EXPLICIT_ID_WAIT_SECONDS = 15.0
_EXECUTOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_LOCK_NAMESPACE = 0x636C7778
_KEEPALIVE_OPTIONS = (
    "-c tcp_keepalives_idle=15 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)


class ExecutorIdError(Exception):
    pass


class ExecutorIdInvalid(ExecutorIdError):
    """The id is not a short name of letters, digits, '.', '_' and '-'."""


class ExecutorIdInUse(ExecutorIdError):
    """Another running process holds the id."""


class ExecutorLease(Protocol):
    @property
    def executor_id(self) -> str: ...

    def held(self) -> bool:
        """Whether the lease is still ours (False once its connection is lost)."""
        ...

    def release(self) -> None: ...


def check_executor_id(executor_id: str) -> str:
    if not _EXECUTOR_ID.fullmatch(executor_id):
        raise ExecutorIdInvalid(
            f"executor id {executor_id!r} is not valid: use 1-63 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return executor_id


def slot_ids() -> list[str]:
    return [DEFAULT_EXECUTOR_ID] + [f"{DEFAULT_EXECUTOR_ID}-{n}" for n in range(2, MAX_SLOTS + 1)]


def claim(
    settings: Settings,
    executor_id: str | None = None,
    *,
    wait_seconds: float = EXPLICIT_ID_WAIT_SECONDS,
) -> ExecutorLease:
    """Lease `executor_id`, or the first free default slot when it is None."""
    if executor_id is None:
        for candidate in slot_ids():
            lease = try_lease(settings, candidate)
            if lease is not None:
                return lease
        raise ExecutorIdInUse(
            f"all {MAX_SLOTS} default executor ids are held by running processes; "
            "start this one with an explicit executor id"
        )
    check_executor_id(executor_id)
    deadline = time.monotonic() + wait_seconds
    while True:
        lease = try_lease(settings, executor_id)
        if lease is not None:
            return lease
        if time.monotonic() >= deadline:
            raise ExecutorIdInUse(
                f"executor id {executor_id!r} is held by another running process; "
                "give each process its own executor id"
            )
        time.sleep(0.25)


def try_lease(settings: Settings, executor_id: str) -> ExecutorLease | None:
    """The lease on `executor_id` if no live process holds it, else None."""
    if settings.is_sqlite:
        return _FileLease.acquire(settings.home / "data" / "executors", executor_id)
    return _AdvisoryLease.acquire(libpq_url(settings.database_url), executor_id)


class _FileLease:
    def __init__(self, executor_id: str, fd: int) -> None:
        self._executor_id = executor_id
        self._fd: int | None = fd

    @property
    def executor_id(self) -> str:
        return self._executor_id

    @classmethod
    def acquire(cls, directory: Path, executor_id: str) -> _FileLease | None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(directory / f"{executor_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return cls(executor_id, fd)

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class _AdvisoryLease:
    def __init__(
        self, executor_id: str, connection: psycopg.Connection[tuple[object, ...]]
    ) -> None:
        self._executor_id = executor_id
        self._connection: psycopg.Connection[tuple[object, ...]] | None = connection

    @property
    def executor_id(self) -> str:
        return self._executor_id

    @classmethod
    def acquire(cls, conninfo: str, executor_id: str) -> _AdvisoryLease | None:
        connection = psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=10,
            application_name=f"clinvault-executor-{executor_id}"[:63],
            keepalives=1,
            keepalives_idle=15,
            keepalives_interval=5,
            keepalives_count=3,
            options=_KEEPALIVE_OPTIONS,
        )
        try:
            row = connection.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, _lock_key(executor_id))
            ).fetchone()
        except BaseException:
            connection.close()
            raise
        if row is None or row[0] is not True:
            connection.close()
            return None
        return cls(executor_id, connection)

    def held(self) -> bool:
        if self._connection is None or self._connection.closed:
            return False
        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error:
            log.error("workflows.executor.lease_lost", executor_id=self._executor_id)
            self._connection.close()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(psycopg.Error):
                connection.execute(
                    "SELECT pg_advisory_unlock(%s, %s)",
                    (_LOCK_NAMESPACE, _lock_key(self._executor_id)),
                )
            connection.close()


def _lock_key(executor_id: str) -> int:
    digest = hashlib.sha256(executor_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big", signed=True)
