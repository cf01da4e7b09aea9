"""`keys rotate`: a new key version, and every object's data key re-wrapped under it.

Objects are never re-encrypted: each keeps its data key, which is unwrapped with
the old key version and wrapped again with the new one. Rows are re-wrapped in
batches of their own transactions, in id order (so rows created meanwhile, which
carry later UUIDv7 ids, are met too), each row only while it still carries an
older version. `keys rewrap` finishes an interrupted run without adding a version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import structlog
import typer
from sqlalchemy import func, select

from clinvault.bootstrap import Container
from clinvault.cli.common import audited, run_with_container
from clinvault.crypto.ports import WrappedKey
from clinvault.models.objects import EncryptedObject

log = structlog.get_logger(__name__)

keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)

DEFAULT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Rotation:
    version: int
    rewrapped: int
    batches: int
    remaining: int


async def _rewrap_batch(
    container: Container, version: int, after: uuid.UUID | None, size: int
) -> tuple[int, uuid.UUID | None]:
    async with container.db.unit_of_work() as session:
        query = (
            select(EncryptedObject)
            .where(EncryptedObject.key_version < version)
            .order_by(EncryptedObject.id)
            .limit(size)
            .with_for_update()
        )
        if after is not None:
            query = query.where(EncryptedObject.id > after)
        rows = (await session.scalars(query)).all()
        for row in rows:
            wrapped = await container.objects.rewrap(
                WrappedKey(row.key_version, row.wrapped_key), row.storage_key
            )
            row.wrapped_key, row.key_version = wrapped.blob, wrapped.version
    return len(rows), rows[-1].id if rows else None


async def rewrap_objects(
    container: Container, version: int, batch_size: int = DEFAULT_BATCH
) -> Rotation:
    """Re-wrap every object under a version older than `version`."""
    rewrapped = batches = 0
    after: uuid.UUID | None = None
    while True:
        count, after = await _rewrap_batch(container, version, after, batch_size)
        if count:
            rewrapped += count
            batches += 1
            log.info("crypto.objects.rewrapped", key_version=version, total=rewrapped)
        if count < batch_size:
            break
    async with container.db.sessions() as session:
        remaining = await session.scalar(
            select(func.count())
            .select_from(EncryptedObject)
            .where(EncryptedObject.key_version < version)
        )
    return Rotation(version, rewrapped, batches, int(remaining or 0))


async def rotate_keys(container: Container, batch_size: int = DEFAULT_BATCH) -> Rotation:
    async with audited(container, "keys rotate", "keys.rotate") as (_session, ctx):
        version = await container.keys.rotate()
        ctx.resource_type, ctx.resource_id = "key_version", str(version)
    log.info("crypto.keys.rotated", key_version=version)
    return await rewrap_objects(container, version, batch_size)


def _report(result: Rotation) -> None:
    typer.echo(
        f"key version {result.version} is current; re-wrapped {result.rewrapped} objects "
        f"in {result.batches} batches"
    )
    if result.remaining:
        typer.echo(
            f"{result.remaining} objects written meanwhile still use an older version; "
            "run `clinvault keys rewrap` to re-wrap them",
            err=True,
        )


BatchSize = Annotated[int, typer.Option(min=1, max=10_000, help="Rows re-wrapped per transaction.")]


@keys_app.command("rotate")
def rotate(batch_size: BatchSize = DEFAULT_BATCH) -> None:
    """Add a key version and re-wrap every stored object's data key under it."""

    async def work(container: Container) -> Rotation:
        return await rotate_keys(container, batch_size)

    _report(run_with_container(work))


@keys_app.command("rewrap")
def rewrap(batch_size: BatchSize = DEFAULT_BATCH) -> None:
    """Re-wrap the data keys still under an older version (resumes an interrupted rotate)."""

    async def work(container: Container) -> Rotation:
        await container.keys.check()
        return await rewrap_objects(container, container.keys.current_version, batch_size)

    _report(run_with_container(work))
