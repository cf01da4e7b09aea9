"""Held uploads: the accepted files of a partly refused credential upload.

When a portal upload is refused for some of its rows, the files of the other
rows are written as encrypted objects (the same envelope encryption as every
stored document: a data key of their own, wrapped by the key provider) and
recorded for the signed-in user, in their organization, until they expire.
The form shows them as kept; sending it again reads them back into the
request's upload spool, where they are checked like a file just sent. Only
their owner can use them: another user's or another organization's id, or an
expired one, is simply not found. `purge_expired` removes what nobody came
back for; the objects' reconcile removes anything a crash left behind.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.credentials.held.repository import HeldUploadRepository
from clinvault.crypto.ports import WrappedKey
from clinvault.db import after_commit
from clinvault.identity.principal import Principal
from clinvault.ids import uuid7
from clinvault.models.held_uploads import HeldUpload
from clinvault.models.objects import EncryptedObject
from clinvault.storage.spool import SpoolDirectory, SpooledFile
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

HOLD_FOR = timedelta(hours=1)
PURGE_BATCH = 200
HELD_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class HeldFile:
    """A held file as the form shows it."""

    id: uuid.UUID
    filename: str
    size: int


def held_key(organization_id: uuid.UUID, user_id: uuid.UUID, held_id: uuid.UUID) -> str:
    return f"orgs/{organization_id}/held-uploads/{user_id}/{held_id}"


def parse_ids(values: Sequence[str]) -> list[uuid.UUID]:
    """The well-formed ids among what a form sent; anything else is ignored."""
    found: list[uuid.UUID] = []
    for value in values:
        try:
            found.append(uuid.UUID(value.strip()))
        except ValueError:
            continue
    return found


class HeldUploadService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = HeldUploadRepository(session)

    async def hold(self, principal: Principal, filename: str, spooled: SpooledFile) -> HeldFile:
        """Store `spooled` encrypted for this user until it expires."""
        held_id = uuid7()
        org = principal.organization_id
        key = held_key(org, principal.user_id, held_id)
        stored = await self.container.objects.put(key, spooled.chunks())
        row = EncryptedObject(
            id=uuid7(),
            organization_id=org,
            storage_key=key,
            wrapped_key=stored.wrapped_key,
            key_version=stored.key_version,
            plaintext_size=stored.plaintext_size,
            sha256=stored.sha256,
            content_type=HELD_CONTENT_TYPE,
        )
        now = utcnow()
        held = HeldUpload(
            id=held_id,
            organization_id=org,
            user_id=principal.user_id,
            object_id=row.id,
            filename=filename[:255],
            size=stored.plaintext_size,
            expires_at=now + HOLD_FOR,
            created_at=now,
        )
        try:
            await self.repository.add(row, held)
        except BaseException:
            await self._delete_objects([key])
            raise
        log.info("credential.upload.held", held_id=str(held_id))
        return HeldFile(held_id, held.filename, held.size)

    async def owned(
        self, principal: Principal, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, HeldFile]:
        """This user's unexpired held files among `ids`, by id."""
        pairs = await self._owned(principal, ids)
        return {held.id: HeldFile(held.id, held.filename, held.size) for held, _ in pairs}

    async def restore(
        self, principal: Principal, held_id: uuid.UUID, directory: SpoolDirectory
    ) -> tuple[HeldFile, SpooledFile] | None:
        """The held file read back into `directory`, or None when it is not this user's."""
        pairs = await self._owned(principal, [held_id])
        if not pairs:
            return None
        held, stored = pairs[0]
        writer = directory.new_file("held-")
        try:
            async for chunk in self.container.objects.get(
                stored.storage_key,
                _wrapped(stored),
                stored.sha256,
            ):
                await asyncio.to_thread(writer.write, chunk)
            spooled = await asyncio.to_thread(writer.finish)
        except BaseException:
            writer.close()
            raise
        return HeldFile(held.id, held.filename, held.size), spooled

    async def release(self, principal: Principal, ids: Sequence[uuid.UUID]) -> int:
        """Forget these held files of this user (used or removed); objects go after commit."""
        pairs = await self._owned(principal, ids)
        await self._remove(pairs)
        return len(pairs)

    async def purge_expired(self) -> int:
        """Remove one batch of expired held files, every tenant; the count removed."""
        pairs = await self.repository.expired(utcnow(), PURGE_BATCH)
        await self._remove(pairs)
        if pairs:
            log.info("credential.upload.held_purged", count=len(pairs))
        return len(pairs)

    async def _owned(
        self, principal: Principal, ids: Sequence[uuid.UUID]
    ) -> list[tuple[HeldUpload, EncryptedObject]]:
        return await self.repository.owned(
            ids, tenant=principal.organization_id, user_id=principal.user_id, now=utcnow()
        )

    async def _remove(self, pairs: Sequence[tuple[HeldUpload, EncryptedObject]]) -> None:
        if not pairs:
            return
        await self.repository.remove(pairs)
        keys = [stored.storage_key for _, stored in pairs]

        async def delete_objects() -> None:
            await self._delete_objects(keys)

        after_commit(self.session, delete_objects)

    async def _delete_objects(self, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                await self.container.objects.delete(key)
            except Exception:
                # The reconcile removes an object left without its row.
                log.exception("credential.upload.held_cleanup_failed")


def _wrapped(stored: EncryptedObject) -> WrappedKey:
    return WrappedKey(version=stored.key_version, blob=stored.wrapped_key)


async def purge_expired_held_uploads(container: Container) -> int:
    """Remove every expired held file, a batch per transaction; the count removed."""
    total = 0
    while True:
        async with container.db.unit_of_work() as session:
            removed = await HeldUploadService(session, container).purge_expired()
        total += removed
        if removed < PURGE_BATCH:
            return total
