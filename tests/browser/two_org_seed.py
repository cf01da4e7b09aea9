"""Seed for browser tests that cross tenants: a clinic's accounts and a pharmacy with its own,
and optionally a second provider organization (a partner clinic) with its accounts.

Run as a script in the server's environment (a separate process, like
portal_server's seed): `python two_org_seed.py JSON`. The clinic's accounts
use `portal_server.Account`'s fields; the pharmacy gets a directory entry.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from portal_server import Account, server_env


def seed_two_organizations(
    home: Path,
    port: int,
    clinic: tuple[str, list[Account]],
    pharmacy: tuple[str, str, list[Account]],
    partner: tuple[str, list[Account]] | None = None,
) -> None:
    """Migrate, then create the clinic (name, accounts), the pharmacy (name, city, accounts)
    and the partner clinic (name, accounts) when given."""

    def accounts(items: list[Account]) -> list[dict[str, object]]:
        return [
            {
                "email": a.email,
                "password": a.password,
                "display_name": a.display_name,
                "roles": list(a.roles),
            }
            for a in items
        ]

    payload = json.dumps(
        {
            "clinic": {"name": clinic[0], "accounts": accounts(clinic[1])},
            "pharmacy": {
                "name": pharmacy[0],
                "city": pharmacy[1],
                "accounts": accounts(pharmacy[2]),
            },
            "partner": None
            if partner is None
            else {"name": partner[0], "accounts": accounts(partner[1])},
        }
    )
    subprocess.run(
        [sys.executable, __file__, payload], env=server_env(home, port), check=True, timeout=120
    )


async def _main(payload: str) -> None:
    from tests.factories import create_org, create_user

    from clinvault.bootstrap import build_container
    from clinvault.config import Settings
    from clinvault.migrate import upgrade_async
    from clinvault.models.prescriptions import PharmacyProfile

    data = json.loads(payload)
    settings = Settings()
    await upgrade_async(settings)
    container = build_container(settings)
    try:
        clinic = await create_org(container, name=data["clinic"]["name"])
        pharmacy = await create_org(container, kind="pharmacy", name=data["pharmacy"]["name"])
        city = data["pharmacy"]["city"]
        async with container.db.unit_of_work() as session:
            session.add(
                PharmacyProfile(
                    organization_id=pharmacy.id,
                    address_line="1 Market Street",
                    city=city,
                    city_folded=city.casefold(),
                    postal_code="94105",
                    phone="+1 415 555 0100",
                )
            )
        groups = [(clinic, data["clinic"]), (pharmacy, data["pharmacy"])]
        if data.get("partner"):
            partner = await create_org(container, name=data["partner"]["name"])
            groups.append((partner, data["partner"]))
        for org, group in groups:
            for account in group["accounts"]:
                await create_user(
                    container,
                    org,
                    roles=account["roles"],
                    email=account["email"],
                    password=account["password"],
                    display_name=account["display_name"],
                )
    finally:
        await container.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: two_org_seed.py JSON")
    asyncio.run(_main(sys.argv[1]))
