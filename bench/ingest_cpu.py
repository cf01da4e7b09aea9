"""CPU per row of the CSV import job and of the bare floor, in-process (load-insensitive).

The wall-clock rates of bench/ingest.py move with the machine's load; the
process CPU time (`time.process_time()`) of the same work barely does. This
generates the bench/ingest.py file (default 20,000 rows), stores it as an
upload, runs the import job in this process (`run_job` + `finish_job`, as
`clinvault ingest` does with workflows disabled) and then the floor of
bench/ingest.py on the same rows, and prints the CPU microseconds per row of
each, with the wall time per row beside it. On PostgreSQL it also prints the
CPU the server's processes (every `postgres` process of the machine: backends,
WAL writer, checkpointer) spent meanwhile, read from /proc, so that the job's
time can be split into this process's CPU, the server's CPU and waiting.
`--profile FILE` writes the job's cProfile statistics.

    .venv/bin/python bench/ingest_cpu.py [--rows 20000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from _common import deployment, machine, opened, run_main
from ingest import FloorRows, floor_postgresql, floor_sqlite, generate
from sqlalchemy import text

from clinvault.identity.admin_service import create_organization
from clinvault.ingest.processing import finish_job, run_job
from clinvault.ingest.service import IngestService

SLUG = "bench-clinic"
_TICKS = os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU of every process named `postgres` on this machine, and of the
    backends that have exited (counted in the postmaster's children times)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name_end = stat.rfind(")")
        if stat[stat.find("(") + 1 : name_end] != "postgres":
            continue
        fields = stat[name_end + 2 :].split()
        # utime + stime, and cutime + cstime: the postmaster's reaped backends.
        ticks += sum(int(field) for field in fields[11:15])
    return ticks / _TICKS


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            yield chunk


async def measure(backend: str, path: Path, rows: int, profile: Path | None) -> None:
    async with deployment(backend) as target, opened(target) as container:
        async with container.db.unit_of_work() as session:
            org = await create_organization(session, name="Bench Clinic", slug=SLUG)
        figures = []
        for label in ("first ingest", "re-ingest"):
            async with container.db.unit_of_work() as session:
                service = IngestService(session, container)
                ticket = await service.new_upload(org.id, None, path.name, False, None)
                job = await service.receive(ticket.upload_id, org.id, _chunks(path), start=False)
            profiler = cProfile.Profile() if profile and label == "first ingest" else None
            started, wall, server = time.process_time(), time.perf_counter(), postgres_cpu_seconds()
            if profiler is not None:
                profiler.enable()
            await run_job(container, job.id)
            await finish_job(container, job.id)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{backend}")
            figures.append(
                (
                    label,
                    time.process_time() - started,
                    time.perf_counter() - wall,
                    postgres_cpu_seconds() - server,
                )
            )
        async with container.db.sessions() as session:
            counts = (
                await session.execute(
                    text(
                        "SELECT state, rows_inserted, rows_present, rows_rejected, "
                        "patients_created FROM ingest_jobs ORDER BY created_at"
                    )
                )
            ).all()
        floor = FloorRows(container, org.id, path.name)
        started, wall, server = time.process_time(), time.perf_counter(), postgres_cpu_seconds()
        if backend == "postgresql":
            await floor_postgresql(target, floor, path)
        else:
            floor_sqlite(target, floor, path)
        floor_cpu = time.process_time() - started
        floor_figures = (floor_cpu, time.perf_counter() - wall, postgres_cpu_seconds() - server)
    print(f"{backend}: {rows:,} rows; load average {os.getloadavg()[0]:.2f}")
    print(f"  floor             {_per_row(*floor_figures, rows, backend)}")
    for label, cpu, elapsed, server_cpu in figures:
        print(
            f"  job, {label:<12} {_per_row(cpu, elapsed, server_cpu, rows, backend)}  "
            f"(floor/job CPU {floor_cpu / cpu:.2f})"
        )
    for row in counts:
        print(f"    {tuple(row)}")


def _per_row(cpu: float, elapsed: float, server_cpu: float, rows: int, backend: str) -> str:
    line = f"{cpu / rows * 1e6:8.1f} us CPU/row, {elapsed / rows * 1e6:8.1f} us wall/row"
    if backend == "postgresql":
        line += f", {server_cpu / rows * 1e6:8.1f} us PostgreSQL CPU/row"
    return line


async def run(rows: int, backends: list[str], profile: Path | None) -> None:
    print(f"machine: {machine()}; load average at start {os.getloadavg()}")
    folder = Path(tempfile.mkdtemp(prefix="clinvault-cpu-"))
    path = folder / f"clinvault-bench-visits-{rows}.csv"
    generate(path, rows)
    try:
        for backend in backends:
            await measure(backend, path, rows, profile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", type=Path, help="write the job's cProfile stats here")
    args = parser.parse_args()
    run_main(run(args.rows, [b.strip() for b in args.backends.split(",")], args.profile))


if __name__ == "__main__":
    main()
