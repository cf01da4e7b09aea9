"""CSV ingest through the real import job against a bare bulk-write floor, in one run.

Generates a CSV of patient visits (default 100,000 rows: realistic names, MRNs
of about five visits each, ISO-8601 date-times with offsets, notes of 50-500
characters with commas, quotes and line breaks, 5% rows repeated from earlier
in the file, 1% invalid rows), then on each backend:

- **job**: `clinvault ingest FILE --org SLUG` in a child process: the file is
  stored encrypted, then the same job the API starts (streamed decryption,
  parsing, validation, patients created, records written idempotently in
  checkpointed 1,000-row batches, error report) runs in-process. rows/s is the
  file's rows over the job's own time (its started_at to finished_at); peak RSS
  is the child's (`wait4`), so it covers the whole command;
- **re-ingest**: the same command on the same file again (every row already
  present or rejected);
- **floor**: the same rows, with the same encryption (title, notes and source
  name AES-256-GCM under the field key; MRN digest, idempotency key and content
  digest HMAC-SHA256), read from the plaintext file with `csv` and written bare
  in 1,000-row transactions: PostgreSQL `COPY` into a staging table plus
  `INSERT ... SELECT ... ON CONFLICT DO NOTHING` (asyncpg), SQLite
  `INSERT OR IGNORE` (sqlite3, the service's pragmas).

    .venv/bin/python bench/ingest.py [--rows 100000] [--backends sqlite,postgresql]
    .venv/bin/python bench/ingest.py --rows 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import hmac
import os
import random
import sqlite3
import subprocess
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from _common import CLINVAULT, MIB, ROOT, Deployment, deployment, machine, opened, run_main
from sqlalchemy import text

from clinvault.bootstrap import Container
from clinvault.crypto.field_cipher import AesGcmFieldCipher
from clinvault.identity.admin_service import create_organization

SLUG = "bench-clinic"
GOAL_RATIO = 0.8
GOAL_ROWS_PER_SECOND = {"postgresql": 60_000, "sqlite": 50_000}
GOAL_RSS_MIB = 200
DUPLICATE_SHARE = 0.05
INVALID_SHARE = 0.01
VISITS_PER_PATIENT = 5
FLOOR_BATCH = 1000
HEADER = ("medical_record_number", "first_name", "last_name", "date_time", "doctors_notes")
FIRST_NAMES = (  # noqa: SIM905 - a word list reads better as text
    "Olivia Liam Emma Noah Amelia Oliver Sophia Elijah Isabella James Ava William Mia "
    "Benjamin Evelyn Lucas Harper Henry Luna Theodore Camila Jack Gianna Levi Elizabeth "
    "Alexander Eleanor Jackson Ella Mateo Abigail Daniel Sofia Michael Avery Mason José "
    "Zoë Søren Ngozi Aiko Rahul Fatima Chen Olga Kwame Ines Mateus Yara Dmitri Leilani"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "O'Brien Müller Kowalski Okafor Tanaka Patel Haddad Ivanova Silva Andersson Dubois"
).split()
NOTE_WORDS = (  # noqa: SIM905
    "patient presents with mild moderate severe cough fever headache fatigue nausea "
    "chest pain shortness of breath lungs clear heart regular rate rhythm abdomen soft "
    "non-tender blood pressure 128/82 pulse 72 temperature 37.1 prescribed amoxicillin "
    "500 mg twice daily ibuprofen as needed follow-up in two weeks referred to cardiology "
    "labs ordered CBC BMP lipid panel HbA1c vaccination updated counselled on diet exercise "
    "smoking cessation sleep hygiene denies allergies history of hypertension type 2 "
    "diabetes asthma well controlled"
).split()
OFFSETS = ("-08:00", "-07:00", "-05:00", "-04:00", "+00:00", "+01:00", "+05:30", "Z")
INVALID_KINDS = ("impossible_date", "no_offset", "empty_note", "bad_mrn", "too_few")


@dataclass
class Generated:
    path: Path
    rows: int
    invalid: int
    duplicates: int


def note(rng: random.Random) -> str:
    words: list[str] = []
    target = rng.randint(50, 500)
    size = 0
    while size < target:
        word = rng.choice(NOTE_WORDS)
        words.append(word)
        size += len(word) + 1
    body = " ".join(words)[:target].strip()
    if rng.random() < 0.2:
        body = body.replace(" ", ", ", 1)
    if rng.random() < 0.05:
        body += ' Patient said "better".'
    if rng.random() < 0.05:
        body = body.replace(" ", "\n", 1)
    return body[:500] if len(body) >= 50 else body.ljust(50, ".")


def generate(path: Path, rows: int, seed: int = 9) -> Generated:
    """Write the CSV row by row (memory does not grow with `rows`)."""
    rng = random.Random(seed)
    patients = max(1, rows // VISITS_PER_PATIENT)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=3650).total_seconds())
    recent: deque[list[str]] = deque(maxlen=2000)
    invalid = duplicates = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for _ in range(rows):
            draw = rng.random()
            if draw < DUPLICATE_SHARE and recent:
                writer.writerow(rng.choice(recent))
                duplicates += 1
                continue
            number = rng.randrange(patients)
            first = FIRST_NAMES[number % len(FIRST_NAMES)]
            last = LAST_NAMES[(number // len(FIRST_NAMES)) % len(LAST_NAMES)]
            moment = start + timedelta(seconds=rng.randrange(span))
            offset = rng.choice(OFFSETS)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + offset
            row = [f"MRN-{number:08d}", first, last, stamp, note(rng)]
            if draw < DUPLICATE_SHARE + INVALID_SHARE:
                invalid += 1
                kind = rng.choice(INVALID_KINDS)
                if kind == "impossible_date":
                    row[3] = "2023-02-30T10:00:00" + offset
                elif kind == "no_offset":
                    row[3] = moment.strftime("%Y-%m-%dT%H:%M:%S")
                elif kind == "empty_note":
                    row[4] = ""
                elif kind == "bad_mrn":
                    row[0] = f"MRN {number}!"
                else:
                    row = row[:3]
                writer.writerow(row)
                continue
            recent.append(row)
            writer.writerow(row)
    return Generated(path, rows, invalid, duplicates)


# -- the job -------------------------------------------------------------------------


@dataclass
class JobRun:
    seconds: float
    wall: float
    peak_rss_mib: float
    state: str
    counts: dict[str, int]

    def rate(self, rows: int) -> float:
        return rows / self.seconds


async def run_command(target: Deployment, file: Path) -> tuple[float, float, str]:
    """`clinvault ingest` in a child process: (wall seconds, peak RSS MiB, its stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: ASYNC220 - reaped with wait4 below
        [str(CLINVAULT), "ingest", str(file), "--org", SLUG],
        env={**os.environ, **target.env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = await asyncio.to_thread(process.stdout.read)
    _, status, usage = await asyncio.to_thread(os.wait4, process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"clinvault ingest exited {process.returncode}:\n{output.decode()}")
    return wall, usage.ru_maxrss / 1024, output.decode()


async def ingest_once(container: Container, target: Deployment, file: Path) -> JobRun:
    wall, rss, output = await run_command(target, file)
    async with container.db.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT state, started_at, finished_at, rows_read, rows_inserted, "
                    "rows_present, rows_rejected, patients_created FROM ingest_jobs "
                    "ORDER BY created_at DESC LIMIT 1"
                )
            )
        ).one()
    state, started_at, finished_at = row[0], _moment(row[1]), _moment(row[2])
    if state not in ("completed", "completed_with_errors"):
        raise RuntimeError(f"the job ended {state}:\n{output}")
    names = ("rows_read", "rows_inserted", "rows_present", "rows_rejected", "patients_created")
    counts = dict(zip(names, (int(value) for value in row[3:]), strict=True))
    return JobRun((finished_at - started_at).total_seconds(), wall, rss, state, counts)


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the floor -------------------------------------------------------------------------


class FloorRows:
    """The rows as the floor writes them: parsed, keyed, encrypted like the job's records."""

    def __init__(self, container: Container, organization_id: uuid.UUID, source: str) -> None:
        self.cipher = AesGcmFieldCipher(container.keys)
        self.indexer = container.blind_index
        self.key = container.keys.derive("ingest")
        self.organization_id = organization_id
        self.source = source

    def mac(self, domain: bytes, value: str) -> str:
        return hmac.new(self.key, domain + b"\x00" + value.encode(), hashlib.sha256).hexdigest()

    def batches(self, path: Path) -> Any:
        batch: list[tuple[Any, ...]] = []
        encrypt = self.cipher.encrypt_text
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for line, cells in enumerate(reader, start=2):
                if len(cells) != len(HEADER) or not cells[4]:
                    continue
                try:
                    when = datetime.fromisoformat(cells[3]).astimezone(UTC)
                except ValueError:
                    continue
                mrn_index = self.indexer.index(cells[0], kind="text")
                batch.append(
                    (
                        uuid.uuid4(),
                        self.organization_id,
                        mrn_index,
                        self.mac(b"key", f"{mrn_index}|{when.isoformat()}"),
                        1,
                        when,
                        encrypt("Visit", context="medical_records.title"),
                        encrypt(cells[4], context="medical_records.content"),
                        encrypt(self.source, context="medical_records.import_source"),
                        self.mac(b"content", cells[4]),
                        line,
                    )
                )
                if len(batch) == FLOOR_BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch


FLOOR_COLUMNS = (
    "id, organization_id, mrn_index, import_key, version, recorded_at, title, content, "
    "import_source, import_digest, import_row"
)


async def floor_postgresql(target: Deployment, rows: FloorRows, path: Path) -> float:
    dsn = target.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE floor_records (id uuid PRIMARY KEY, organization_id uuid NOT NULL, "
            "mrn_index text NOT NULL, import_key text NOT NULL, version int NOT NULL, "
            "recorded_at timestamptz NOT NULL, title text NOT NULL, content text NOT NULL, "
            "import_source text NOT NULL, import_digest text NOT NULL, import_row int NOT NULL, "
            "UNIQUE (organization_id, import_key, version))"
        )
        await conn.execute(
            "CREATE TEMP TABLE floor_stage (LIKE floor_records INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        columns = [name.strip() for name in FLOOR_COLUMNS.split(",")]
        started = time.perf_counter()
        for batch in rows.batches(path):
            async with conn.transaction():
                await conn.copy_records_to_table("floor_stage", records=batch, columns=columns)
                await conn.execute(
                    f"INSERT INTO floor_records ({FLOOR_COLUMNS}) "
                    f"SELECT {FLOOR_COLUMNS} FROM floor_stage ON CONFLICT DO NOTHING"
                )
        return time.perf_counter() - started
    finally:
        await conn.close()


def floor_sqlite(target: Deployment, rows: FloorRows, path: Path) -> float:
    database = target.home / "data" / "clinvault.db"
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(
            "CREATE TABLE floor_records (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, "
            "mrn_index TEXT NOT NULL, import_key TEXT NOT NULL, version INTEGER NOT NULL, "
            "recorded_at TEXT NOT NULL, title TEXT NOT NULL, content TEXT NOT NULL, "
            "import_source TEXT NOT NULL, import_digest TEXT NOT NULL, "
            "import_row INTEGER NOT NULL, UNIQUE (organization_id, import_key, version))"
        )
        statement = (
            f"INSERT OR IGNORE INTO floor_records ({FLOOR_COLUMNS}) VALUES ({', '.join('?' * 11)})"
        )
        started = time.perf_counter()
        for batch in rows.batches(path):
            conn.execute("BEGIN")
            conn.executemany(
                statement,
                [(r[0].hex, r[1].hex, *r[2:5], r[5].isoformat(), *r[6:]) for r in batch],
            )
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


# -- the run ---------------------------------------------------------------------------


async def measure(backend: str, generated: Generated) -> None:
    async with deployment(backend) as target, opened(target) as container:
        async with container.db.unit_of_work() as session:
            org = await create_organization(session, name="Bench Clinic", slug=SLUG)
        first = await ingest_once(container, target, generated.path)
        again = await ingest_once(container, target, generated.path)
        rows = FloorRows(container, org.id, generated.path.name)
        if backend == "postgresql":
            floor_seconds = await floor_postgresql(target, rows, generated.path)
        else:
            floor_seconds = await asyncio.to_thread(floor_sqlite, target, rows, generated.path)
    n = generated.rows
    floor_rate = n / floor_seconds
    print(f"{backend}: {n:,} rows")
    print(f"  floor (parse + same encryption + bare writes)  {floor_rate:10,.0f} rows/s")
    for label, run in (("job, first ingest", first), ("job, re-ingest", again)):
        print(
            f"  {label:<46} {run.rate(n):10,.0f} rows/s  job {run.seconds:7.1f} s  "
            f"command {run.wall:7.1f} s  peak RSS {run.peak_rss_mib:6.1f} MiB  {run.state}"
        )
        print(f"    counts {run.counts}")
    print(
        f"  ratio job/floor: {first.rate(n) / floor_rate:.2f} (goal >= {GOAL_RATIO}); "
        f"rows/s goal {GOAL_ROWS_PER_SECOND[backend]:,}; peak RSS goal < {GOAL_RSS_MIB} MiB; "
        f"re-ingest/first: {again.rate(n) / first.rate(n):.2f} (goal >= 1)"
    )


def load() -> str:
    """The load averages over 1, 5 and 15 minutes (the cores are shared)."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


async def run(row_counts: list[int], backends: list[str], keep: Path | None) -> None:
    print(f"machine: {machine()}")
    print(f"load average (1, 5, 15 min) at start: {load()}")
    folder = keep or Path(os.environ.get("TMPDIR", "/tmp"))
    for rows in row_counts:
        path = folder / f"clinvault-bench-visits-{rows}.csv"
        started = time.perf_counter()
        generated = generate(path, rows)
        print(
            f"generated {rows:,} rows ({path.stat().st_size / MIB:.1f} MiB; "
            f"{generated.invalid:,} invalid, {generated.duplicates:,} repeated) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        try:
            for backend in backends:
                await measure(backend, generated)
        finally:
            if keep is None:
                path.unlink(missing_ok=True)
    print(f"load average (1, 5, 15 min) at end: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", default="100000", help="rows per file, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--keep", type=Path, help="write the CSV files here and keep them")
    args = parser.parse_args()
    run_main(
        run(
            [int(value) for value in args.rows.split(",")],
            [value.strip() for value in args.backends.split(",")],
            args.keep,
        )
    )


if __name__ == "__main__":
    main()
