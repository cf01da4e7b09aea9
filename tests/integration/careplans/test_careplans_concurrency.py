"""Two clinicians save changes based on the same version at the same moment.

The requests run concurrently on separate database connections (one unit of
work each), so on PostgreSQL their transactions really overlap: exactly one
becomes the next version, the other is a 412 that names the winner, and the
loser's content is not written anywhere.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.integration.careplans.support import PLANS, World, build_world, create_plan, update_plan
from tests.integration.records.conftest import member

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

RACERS = 4


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


async def test_concurrent_updates_from_one_version_one_wins_the_others_get_412(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    editors = [world.doctor, world.nurse] + [
        (await member(container, world.clinic.org, Role.DOCTOR))[1] for _ in range(RACERS - 2)
    ]
    answers = await asyncio.gather(
        *(
            update_plan(client, who, plan, plan["etag"], title=f"Edit {index}")
            for index, who in enumerate(editors)
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [412] * (RACERS - 1), [a.text[:160] for a in answers]
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    for answer in answers:
        if answer.status_code == 412:
            assert answer.json()["code"] == "care_plan_changed"
            assert answer.headers["etag"] == winner["etag"]
    versions = (await client.get(f"{PLANS}/{plan['id']}/versions", headers=world.doctor)).json()
    assert [v["number"] for v in versions] == [1, 2]
    current = (await client.get(f"{PLANS}/{plan['id']}", headers=world.doctor)).json()
    assert current["title"] == winner["title"]
    assert current["version"] == 2
