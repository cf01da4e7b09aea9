"""A real clamd, started for the test with a signature database the test writes
(ClamAV's own databases need a network download), catches EICAR through the port."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import service_missing
from tests.unit.filecheck import corpus

from clinvault.filecheck import ClamdScanner, FilePolicy, FileRejected, inspect_file

SIGNATURE = "Clinvault-Test-Eicar"
START_TIMEOUT_SECONDS = 120.0


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
    )
    if binary is None:
        service_missing("clamd is not installed (Debian package clamav-daemon)")
    assert binary is not None
    root = tmp_path_factory.mktemp("clamd")
    database = root / "db"
    database.mkdir()
    # A body signature: matches the EICAR bytes anywhere in any file.
    (database / "clinvault-test.ndb").write_text(f"{SIGNATURE}:0:*:{corpus.EICAR.hex()}\n")
    socket_path = root / "clamd.sock"
    config = root / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {socket_path}",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {root}",
                f"LogFile {root / 'clamd.log'}",
                f"PidFile {root / 'clamd.pid'}",
                "Foreground yes",
                "",
            ]
        )
    )
    process = subprocess.Popen(
        [binary, "--config-file", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not socket_path.exists():
            if process.poll() is not None:
                log = (root / "clamd.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"clamd exited with {process.returncode}: {log}")
            if time.monotonic() > deadline:
                pytest.fail("clamd did not open its socket in time")
            time.sleep(0.1)
        yield str(socket_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_clamd_catches_eicar_inside_a_valid_pdf(clamd_socket: str, tmp_path: Path) -> None:
    scanner = ClamdScanner(clamd_socket)
    path = corpus.write(tmp_path / "upload", corpus.pdf_carrying(corpus.EICAR))

    assert scanner.scan(path) == f"{SIGNATURE}.UNOFFICIAL"
    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "license.pdf", FilePolicy(), scanner=scanner)
    assert caught.value.codes == ["malware_found"]


def test_clamd_passes_a_clean_pdf(clamd_socket: str, tmp_path: Path) -> None:
    scanner = ClamdScanner(clamd_socket)
    path = corpus.write(tmp_path / "upload", corpus.valid_pdf())

    assert scanner.scan(path) is None
    assert inspect_file(path, "license.pdf", FilePolicy(), scanner=scanner).size > 0
