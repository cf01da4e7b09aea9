"""Patient search latency over a large organization.

Seeds N generated patients (default 100,000) in one organization with the
records writer's helpers (encrypted fields, MRN digest, blind-index search
tokens), a batch per transaction; then
times `GET /api/patients/search?q=` on `clinvault serve` with a doctor's token,
one request at a time, for each kind of query the box understands: a name
prefix (first three letters of a last name, so it matches a few thousand
patients), first and last name prefixes together, an exact MRN, a date of
birth and a phone number in national format.

    .venv/bin/python bench/search.py [--patients 100000] [--queries 200]
        [--backends postgresql,sqlite] [--batch 1000]
"""

from __future__ import annotations

import argparse
import random
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
from _common import (
    Deployment,
    clinvault_server,
    deployment,
    login,
    machine,
    opened,
    percentile,
    run_main,
    seed_accounts,
)
from _load import Connection
from sqlalchemy import insert

from clinvault.bootstrap import Container
from clinvault.crypto.blind_index import BlindIndexer
from clinvault.identity.principal import Role
from clinvault.ids import uuid7
from clinvault.models.records import Patient, PatientSearchToken
from clinvault.records.patients.schemas import PatientCreate
from clinvault.records.patients.search import mrn_digest
from clinvault.records.patients.writer import new_mrn, normalized_phone, storable, tokens_of

GOAL_P99_MS = 50.0
FIRST_NAME_TEXT = (
    "Olivia Liam Emma Noah Amelia Oliver Sophia Elijah Isabella James Ava William Mia "
    "Benjamin Evelyn Lucas Harper Henry Luna Theodore Camila Jack Gianna Levi Elizabeth "
    "Alexander Eleanor Jackson Ella Mateo Abigail Daniel Sofia Michael Avery Mason Scarlett "
    "Sebastian Emily Ethan Aria Logan Penelope Owen Chloe Samuel Layla Jacob Mila Asher "
    "Nora Aiden Hazel John Madison Joseph Ellie Wyatt Lily David Nova Leo Isla Luke Grace "
    "Julian Violet Hudson Aurora Grayson Riley Matthew Zoey Ezra Willow Gabriel Emilia "
    "Carter Stella Isaac Zoe Jayden Victoria Luca Hannah Anthony Addison Dylan Leah Lincoln "
    "Lucy Thomas Eliana Maverick Ivy Elias Everly Josiah Lillian Charles Paisley Caleb "
    "Elena Christopher Naomi Ezekiel Maya Miles Natalie Jaxon Kinsley Isaiah Delilah Andrew "
    "Claire Joshua Audrey"
)
# Last names from syllables: thousands of distinct names sharing first syllables.
SYLLABLE_TEXT = "bar ken lin mor dal vic tor san hel ros mar ber wil gar fen ash cor dun ell har"
ENDING_TEXT = "son ton ley man ford well by field wood ski er ez"
FIRST_NAMES = tuple(FIRST_NAME_TEXT.split())
SYLLABLES = tuple(SYLLABLE_TEXT.split())
ENDINGS = tuple(ENDING_TEXT.split())


@dataclass
class Sample:
    first_name: str
    last_name: str
    date_of_birth: str
    phone_national: str
    mrn: str


def fake_patient(rng: random.Random) -> PatientCreate:
    last = (rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(ENDINGS)).capitalize()
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 90 * 365))
    phone = f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return PatientCreate(
        first_name=rng.choice(FIRST_NAMES),
        last_name=last,
        date_of_birth=born,
        gender=rng.choice(("female", "male", "other", "unknown")),
        phone=phone,
        email=f"p{rng.getrandbits(40):x}@example.org",
        blood_type=rng.choice(("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")),
        allergies=rng.choice(("none known", "penicillin", "latex", "peanuts")),
        emergency_contact="next of kin, +12025550100",
    )


def patient_row(
    indexer: BlindIndexer, tenant: uuid.UUID, data: PatientCreate, mrn: str, country: str
) -> Patient:
    """The row `create_patient` would insert (same normalization, same MRN digest)."""
    values = {
        name: storable(name, value)
        for name, value in data.model_dump(exclude={"mrn", "phone"}).items()
    }
    return Patient(
        id=uuid7(),
        organization_id=tenant,
        mrn=mrn,
        mrn_index=mrn_digest(indexer, mrn),
        phone=normalized_phone(data.phone, country),
        **values,
    )


async def seed_patients(
    container: Container, organization_id: str, count: int, batch: int, samples: int
) -> list[Sample]:
    """`count` patients, `batch` per transaction, kept `samples` of them to query.

    The rows and search tokens are built by the records writer's own helpers
    (`storable`, `normalized_phone`, `mrn_digest`, `tokens_of`) but inserted a batch
    at a time: `create_patient` costs three round trips per patient, which on two
    shared cores made 100,000 patients take most of an hour.
    """
    rng = random.Random(20261130)
    keep_every = max(1, count // samples)
    kept: list[Sample] = []
    used_mrns: set[str] = set()
    indexer = container.blind_index
    country = container.settings.records.default_phone_country_code
    tenant = uuid.UUID(organization_id)
    started = time.perf_counter()
    for first in range(0, count, batch):
        rows: list[Patient] = []
        tokens: list[dict[str, object]] = []
        for index in range(first, min(count, first + batch)):
            data = fake_patient(rng)
            while (mrn := new_mrn()) in used_mrns:
                pass
            used_mrns.add(mrn)
            patient = patient_row(indexer, tenant, data, mrn, country)
            rows.append(patient)
            tokens += [
                {"organization_id": tenant, "patient_id": patient.id, "kind": kind,
                 "token_hash": digest}
                for kind, digest in tokens_of(indexer, patient)
            ]  # fmt: skip
            if index % keep_every == 0 and data.phone:
                digits = data.phone[2:]
                phone = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
                kept.append(
                    Sample(data.first_name, data.last_name, patient.date_of_birth, phone, mrn)
                )
        async with container.db.unit_of_work() as session:
            session.add_all(rows)
            await session.flush()
            await session.execute(insert(PatientSearchToken), tokens)
        done = min(count, first + batch)
        if done % max(batch, count // 10) < batch or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"  seeded {done:>7} patients ({rate:.0f}/s)", flush=True)
    return kept


QUERIES: dict[str, Callable[[Sample], str]] = {
    "name prefix (3 letters)": lambda s: s.last_name[:3],
    "first + last prefixes": lambda s: f"{s.first_name[:3]} {s.last_name[:4]}",
    "exact MRN": lambda s: s.mrn,
    "date of birth": lambda s: s.date_of_birth,
    "phone (national format)": lambda s: s.phone_national,
}


async def measure(target: Deployment, patients: int, queries: int, batch: int) -> None:
    async with opened(target) as container:
        accounts = await seed_accounts(container, [Role.DOCTOR])
        started = time.perf_counter()
        samples = await seed_patients(
            container, accounts[Role.DOCTOR].organization_id, patients, batch, queries
        )
        print(f"  seeding took {time.perf_counter() - started:.0f} s")
    async with clinvault_server(target) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            headers = await login(client, accounts[Role.DOCTOR].email)
        connection = await Connection.open(server.base_url)
        try:
            for label, make in QUERIES.items():
                latencies: list[float] = []
                found = 0
                for sample in samples[:queries]:
                    path = "/api/patients/search?q=" + urllib.parse.quote(make(sample))
                    began = time.perf_counter()
                    reply = await connection.request("GET", path, headers)
                    latencies.append(time.perf_counter() - began)
                    if reply.status != 200:
                        raise RuntimeError(f"{label}: {reply.status} {reply.body[:300]!r}")
                    found += int(b'"total":0' not in reply.body)
                p50 = percentile(latencies, 0.5) * 1000
                p99 = percentile(latencies, 0.99) * 1000
                print(
                    f"  {label:<26} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
                    f"({len(latencies)} queries, {found} with results)"
                )
        finally:
            await connection.close()


async def run(patients: int, queries: int, backends: list[str], batch: int) -> None:
    print(f"machine: {machine()}")
    print(f"GET /api/patients/search over {patients} patients, goal p99 <= {GOAL_P99_MS:.0f} ms")
    for backend in backends:
        print(f"{backend}:")
        async with deployment(backend) as target:
            await measure(target, patients, queries, batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="per kind of query")
    parser.add_argument("--backends", default="postgresql")
    parser.add_argument("--batch", type=int, default=1000, help="patients per transaction")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",")]
    run_main(run(args.patients, args.queries, backends, args.batch))


if __name__ == "__main__":
    main()
