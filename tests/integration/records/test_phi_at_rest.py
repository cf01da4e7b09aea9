"""PHI never reaches the database in plaintext, yet search still finds it.

Distinctive values are written through the API; then the raw SQLite file
(WAL checkpointed first) or a pg_dump of the PostgreSQL database is scanned
for every one of them.
"""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from tests.conftest import backend, service_missing
from tests.integration.records.conftest import Clinic, add_patient

from clinvault.bootstrap import Container

SECRETS = {
    "first_name": "Zebulonqx",
    "last_name": "Quarmbyvex",
    "date_of_birth": "1947-11-23",
    "phone": "+16175550187",
    "email": "zq.hidden@example.org",
    "address": "742 Evergreenqx Terrace",
    "allergies": "Sulfaqxine intolerance",
    "emergency_contact": "Hortensiaqx Quarmbyvex",
    "mrn": "MRNQX-9931",
}
SSN = "078-05-1120"
RECORD = {"title": "Qxtitle confidential", "content": "Qxcontent oncology diagnosis"}
REASON = "Qxreason follow-up"


async def _database_bytes(container: Container) -> bytes:
    settings = container.settings
    if backend() == "postgresql":
        url = urlsplit(settings.database_url.replace("+asyncpg", ""))
        command = [
            "pg_dump",
            "--host",
            url.hostname or "127.0.0.1",
            "--port",
            str(url.port or 5432),
            "--username",
            url.username or "postgres",
            "--data-only",
            url.path.lstrip("/"),
        ]
        try:
            done = await asyncio.to_thread(
                subprocess.run, command, capture_output=True, check=True, timeout=60
            )
        except FileNotFoundError:
            service_missing("pg_dump is not installed")
            raise
        return done.stdout
    async with container.db.engine.connect() as connection:
        await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    path = settings.sqlite_path
    assert path is not None
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


async def test_no_plaintext_phi_in_the_database(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"], **SECRETS, ssn=SSN)
    record = await client.post(
        "/api/records/",
        json={"patient_id": patient["id"], "record_type": "note", **RECORD},
        headers=clinic.headers["doctor"],
    )
    assert record.status_code == 201, record.text
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    booked = await client.post(
        "/api/appointments/",
        json={
            "patient_id": patient["id"],
            "practitioner_id": str(clinic.users["doctor"].id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=30)).isoformat(),
            "reason": REASON,
        },
        headers=clinic.headers["clerk"],
    )
    assert booked.status_code == 201, booked.text
    headers = clinic.headers["nurse"]
    for query in ("zebul", "quarmbyvex", "mrnqx-9931", "1947-11-23", "(617) 555-0187"):
        found = await client.get("/api/patients/search", params={"q": query}, headers=headers)
        assert [item["id"] for item in found.json()["items"]] == [patient["id"]], query

    dump = await _database_bytes(container)
    assert patient["id"].encode() in dump or patient["id"].replace("-", "").encode() in dump
    plaintexts = [*SECRETS.values(), SSN, SSN.replace("-", ""), *RECORD.values(), REASON]
    for value in plaintexts:
        for form in {value, value.lower(), value.upper()}:
            assert form.encode("utf-8") not in dump, f"{value!r} is stored in plaintext"
