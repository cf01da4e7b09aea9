"""Store or read one encrypted object with the home's own container.

python -m tests.integration.cli.objects_probe put ORG_SLUG TEXT   -> prints the row id
python -m tests.integration.cli.objects_probe get ROW_ID          -> prints the plaintext
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import select

from clinvault.bootstrap import Container, build_container
from clinvault.config import Settings
from clinvault.crypto.ports import WrappedKey
from clinvault.models.identity import Organization
from clinvault.models.objects import EncryptedObject


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def put(container: Container, slug: str, text: str) -> str:
    async with container.db.unit_of_work() as session:
        organization = await session.scalar(select(Organization).where(Organization.slug == slug))
        assert organization is not None
        row_id = uuid.uuid4()
        key = f"orgs/{organization.id}/probe/{row_id}"
        stored = await container.objects.put(key, _chunks(text.encode()))
        session.add(
            EncryptedObject(
                id=row_id,
                organization_id=organization.id,
                storage_key=key,
                wrapped_key=stored.wrapped_key,
                key_version=stored.key_version,
                plaintext_size=stored.plaintext_size,
                sha256=stored.sha256,
                content_type="text/plain",
            )
        )
    return str(row_id)


async def get(container: Container, row_id: str) -> str:
    async with container.db.sessions() as session:
        row = await session.get(EncryptedObject, uuid.UUID(row_id))
    assert row is not None
    wrapped = WrappedKey(row.key_version, row.wrapped_key)
    stream = container.objects.get(row.storage_key, wrapped, row.sha256)
    return b"".join([chunk async for chunk in stream]).decode()


async def main(args: list[str]) -> str:
    container = build_container(Settings())
    try:
        if args[0] == "put":
            return await put(container, args[1], args[2])
        return await get(container, args[1])
    finally:
        await container.close()


if __name__ == "__main__":
    print(asyncio.run(main(sys.argv[1:])))
