"""Which scanner one setting gives: a local clamd by default, none on request."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinvault.config import Settings
from clinvault.filecheck import ClamdScanner, open_scanner
from clinvault.filecheck.scanning import DEFAULT_CLAMD_SOCKETS


@pytest.fixture
def listening_socket(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "clamd.ctl")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        yield path
    finally:
        server.close()


def test_a_local_clamd_socket_is_used_without_configuration(
    listening_socket: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.ctl")

    scanner = open_scanner(None, candidates=[missing, listening_socket])

    assert isinstance(scanner, ClamdScanner)
    assert scanner.address == listening_socket
    assert isinstance(open_scanner("", candidates=[listening_socket]), ClamdScanner)


@pytest.mark.parametrize("value", ["none", "NONE", " off "])
def test_none_turns_scanning_off_even_with_clamd_present(listening_socket: str, value: str) -> None:
    assert open_scanner(value, candidates=[listening_socket]) is None


def test_without_clamd_nothing_is_scanned(tmp_path: Path) -> None:
    regular_file = tmp_path / "clamd.ctl"
    regular_file.write_text("not a socket")

    assert open_scanner(None, candidates=[str(regular_file), str(tmp_path / "gone")]) is None


def test_an_explicit_address_is_used_as_given(tmp_path: Path) -> None:
    scanner = open_scanner("tcp://clamd:3310", candidates=[])

    assert isinstance(scanner, ClamdScanner)
    assert scanner.address == "tcp://clamd:3310"


def test_the_default_candidates_are_the_debian_socket_paths() -> None:
    assert DEFAULT_CLAMD_SOCKETS == ("/run/clamav/clamd.ctl", "/var/run/clamav/clamd.ctl")


def test_the_test_suite_turns_the_system_clamd_off(tmp_path: Path) -> None:
    # tests/conftest.py sets CLINVAULT_VIRUS_SCAN_URL=none for the whole run.
    assert Settings(home=tmp_path).virus_scan_url == "none"
