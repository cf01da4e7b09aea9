"""Practitioner names that carry their licence flags, for pages that book or show them.

A practitioner whose current medical licence is rejected or expired is flagged
("Licence expired") wherever staff book them or read what they wrote. The
flags come from the credentials service; the names stay a plain mapping, so
pages that only want names are unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.credentials.review_work import ReviewWork
from clinvault.identity.principal import Principal


class PractitionerNames(dict[uuid.UUID, str]):
    """Display names by user id, with `flags`: the licence flag of those flagged."""

    def __init__(self, names: Mapping[uuid.UUID, str], flags: Mapping[uuid.UUID, str]) -> None:
        super().__init__(names)
        self.flags = dict(flags)

    def label(self, person_id: uuid.UUID, name: str) -> str:
        flag = self.flags.get(person_id)
        return f"{name} ({flag})" if flag else name


async def own_licence_flag(
    session: AsyncSession, container: Container, principal: Principal
) -> str | None:
    """The signed-in practitioner's own licence flag, shown where they write a record."""
    flags = await ReviewWork(session, container).licence_flags(principal, {principal.user_id})
    return flags.get(principal.user_id)


async def with_licence_flags(
    session: AsyncSession,
    container: Container,
    principal: Principal,
    names: Mapping[uuid.UUID, str],
) -> PractitionerNames:
    flags = await ReviewWork(session, container).licence_flags(principal, set(names))
    return PractitionerNames(names, flags)
