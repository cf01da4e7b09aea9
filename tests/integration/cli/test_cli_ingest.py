"""`ingest FILE --org SLUG`: the same upload and job as the API, run in the command's process."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.integration.cli.conftest import Cli

HEADER = "medical_record_number,first_name,last_name,date_time,doctors_notes\n"
ROWS = (
    "MRN-1,Ada,Lovelace,2025-03-26T10:30:00-07:00,Seen for cough.\n"
    'MRN-1,Ada,Lovelace,2025-01-02T09:00:00+00:00,"First visit, ""quoted""\nmultiline"\n'
    "MRN-2,Alan,Turing,2025-02-01T08:15:00Z,Follow-up.\n"
)
BAD = "MRN-3,Grace,Hopper,2025-02-30T10:00:00Z,Impossible date.\n"


def an_id(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def provider(cli: Cli, slug: str = "northside") -> uuid.UUID:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", slug, "--kind", "provider")
    return an_id(cli.sql("SELECT id FROM organizations WHERE slug = :s", s=slug)[0][0])


def records(cli: Cli) -> list[tuple[int, uuid.UUID]]:
    rows = cli.sql(
        "SELECT import_source, import_row, import_job_id FROM medical_records ORDER BY import_row"
    )
    # The source file's name is stored encrypted, like the notes.
    assert all(str(row[0]).startswith("v1:") for row in rows)
    return [(int(row[1]), an_id(row[2])) for row in rows]


def job_id(output: str) -> uuid.UUID:
    found = re.search(r"^job ([0-9a-f-]{36}): ", output, re.MULTILINE)
    assert found is not None, output
    return uuid.UUID(found.group(1))


def test_ingest_imports_reports_rejected_rows_and_skips_them_next_time(
    cli: Cli, tmp_path: Path
) -> None:
    org = provider(cli)
    path = tmp_path / "visits.csv"
    path.write_text(HEADER + ROWS + BAD)

    first = cli.run("ingest", str(path), "--org", "northside")
    # A rejected row is a failure the operator has to see, with line, column and code.
    assert first.returncode == 1, first.stderr
    assert "completed_with_errors" in first.stdout
    assert (
        "rows read 4: 3 inserted, 0 already present, 0 amended, 1 rejected; 2 patients created"
        in first.stdout
    )
    assert "line 6  date_time  date_time_invalid  " in first.stdout
    assert "error-report" in first.stdout
    # The cells of a rejected row (PHI) are not printed.
    assert "Hopper" not in first.stdout
    assert "Hopper" not in first.stderr
    job = job_id(first.stdout)
    assert records(cli) == [(2, job), (3, job), (5, job)]
    patients = cli.sql("SELECT organization_id, imported_by_job_id FROM patients")
    assert sorted((an_id(o), an_id(j)) for o, j in patients) == [(org, job), (org, job)]
    [(state, stored)] = cli.sql(
        "SELECT j.state, o.storage_key FROM ingest_jobs j JOIN encrypted_objects o "
        "ON o.id = j.object_id"
    )
    assert state == "completed_with_errors"
    assert re.fullmatch(
        rf"orgs/{org}/ingest/completed/\d{{4}}-\d\d-\d\d/\d{{6}}-[0-9a-f]{{16}}\.csv", stored
    ), stored

    path.write_text(HEADER + ROWS)
    again = cli.run("ingest", str(path), "--org", "northside")
    assert again.returncode == 0, again.stderr
    assert "rows read 3: 0 inserted, 3 already present" in again.stdout
    assert len(records(cli)) == 3
    # The progress bar goes to stderr, complete at the end.
    assert re.search(r"importing .* 100% ", again.stderr), again.stderr
    # The audit trail names the command, never the file's content.
    audited = cli.sql("SELECT path, action FROM audit_events WHERE action = 'ingest.upload.create'")
    assert [(str(p), str(a)) for p, a in audited] == [
        ("clinvault ingest", "ingest.upload.create")
    ] * 2


def test_dry_run_and_time_zone(cli: Cli, tmp_path: Path) -> None:
    provider(cli)
    path = tmp_path / "local.csv"
    path.write_text(HEADER + "MRN-9,Ann,Lee,2025-03-26T10:30:00,Local time.\n")

    refused = cli.run("ingest", str(path), "--org", "northside", "--dry-run")
    assert refused.returncode == 1
    assert "(dry run: nothing was written)" in refused.stdout
    assert "date_time_without_offset" in refused.stdout

    dry = cli.run(
        "ingest", str(path), "--org", "northside", "--dry-run", "--timezone", "America/New_York"
    )
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "rows read 1: 1 inserted" in dry.stdout
    assert cli.sql("SELECT count(*) FROM medical_records")[0][0] == 0
    assert cli.sql("SELECT count(*) FROM patients")[0][0] == 0

    real = cli.run("ingest", str(path), "--org", "northside", "--timezone", "America/New_York")
    assert real.returncode == 0, real.stdout + real.stderr
    [(recorded,)] = cli.sql("SELECT recorded_at FROM medical_records")
    assert str(recorded).startswith("2025-03-26 14:30:00"), recorded


def test_wrong_org_timezone_or_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    provider(cli)
    cli.ok("orgs", "create", "--name", "Corner", "--slug", "corner", "--kind", "pharmacy")
    path = tmp_path / "visits.csv"
    path.write_text(HEADER + ROWS)

    for slug in ("nowhere", "corner"):
        result = cli.run("ingest", str(path), "--org", slug)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"error: no provider organization with slug '{slug}': check it "
            "(organizations are created with `clinvault orgs create`)"
        )

    zone = cli.run("ingest", str(path), "--org", "northside", "--timezone", "Mars/Olympus")
    assert zone.returncode == 2
    assert "unknown time zone" in zone.stderr
    assert "Traceback" not in zone.stderr

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli.run("ingest", str(empty), "--org", "northside")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("error: The file is empty"), result.stderr

    header = tmp_path / "header.csv"
    header.write_text("mrn,name\nA,B\n")
    result = cli.run("ingest", str(header), "--org", "northside")
    assert result.returncode == 1
    assert "lacks medical_record_number" in result.stderr.splitlines()[-1]
    assert cli.sql("SELECT count(*) FROM medical_records")[0][0] == 0
