"""Racing pharmacists: one claim wins; the total dispensed never exceeds what was authorised.

The requests run concurrently on separate database connections (one unit of
work each), so on PostgreSQL their transactions really overlap; the row-version
compare-and-set and the table's check constraints are what keep the totals.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.integration.prescriptions.support import Loop, act, build_loop, issued, party

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

RACERS = 6


@pytest.fixture
async def loop(client: httpx.AsyncClient, container: Container) -> Loop:
    return await build_loop(client, container)


async def test_only_one_claim_wins(
    client: httpx.AsyncClient, container: Container, loop: Loop
) -> None:
    colleagues = [loop.pharmacist] + [
        await party(container, loop.pharmacy, Role.PHARMACIST) for _ in range(RACERS - 1)
    ]
    rx = await issued(client, loop)
    version = rx["version"]
    answers = await asyncio.gather(
        *(act(client, who, rx["id"], "claim", {"version": version}) for who in colleagues)
    )
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [200] + [409] * (RACERS - 1), [r.text[:120] for r in answers]
    after = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.doctor.headers)
    claims = [e for e in after.json()["history"] if e["action"] == "claim"]
    assert len(claims) == 1


async def test_racing_dispenses_never_exceed_the_authorised_amount(
    client: httpx.AsyncClient, container: Container, loop: Loop
) -> None:
    colleagues = [loop.pharmacist] + [
        await party(container, loop.pharmacy, Role.PHARMACIST) for _ in range(RACERS - 1)
    ]
    rx = await issued(client, loop, quantity=10, unit="tablet", refills_allowed=0)
    assert (await act(client, loop.pharmacist, rx["id"], "claim")).status_code == 200
    for _ in range(4):
        answers = await asyncio.gather(
            *(act(client, who, rx["id"], "dispense", {"quantity": 4}) for who in colleagues)
        )
        assert all(r.status_code in (200, 409, 422) for r in answers), [r.text for r in answers]
    final = (await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.doctor.headers)).json()
    assert final["dispensed"] <= 10
    assert sum(d["quantity"] for d in final["dispenses"]) == final["dispensed"]
    assert final["remaining"] == 10 - final["dispensed"]
    assert [d["remaining"] for d in final["dispenses"]] == sorted(
        (d["remaining"] for d in final["dispenses"]), reverse=True
    )
    # 4 + 4 leaves 2: the last 4 can never fit; finish with exactly what remains.
    assert final["dispensed"] == 8
    done = await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": 2})
    assert done.json()["status"] == "completed", done.text
