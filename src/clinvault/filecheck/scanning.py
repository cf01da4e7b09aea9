"""The virus-scan port, its clamd adapter (INSTREAM over a socket), and the choice of
scanner from one setting: on by default wherever a local clamd is listening."""

from __future__ import annotations

import socket
import stat
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from clinvault.filecheck.model import VirusScanFailed

_CHUNK = 64 * 1024
_MAX_REPLY = 4096
# Where Debian's and Ubuntu's clamav-daemon (and most other packages) put the socket.
DEFAULT_CLAMD_SOCKETS = ("/run/clamav/clamd.ctl", "/var/run/clamav/clamd.ctl")
DISABLED = frozenset({"none", "off", "disabled"})


def open_scanner(
    setting: str | None, *, candidates: Sequence[str] = DEFAULT_CLAMD_SOCKETS
) -> ClamdScanner | None:
    """The scanner CLINVAULT_VIRUS_SCAN_URL asks for.

    Unset (or empty): the first of `candidates` that is a Unix socket, so a host with
    clamd installed scans without configuration; none when there is none. "none"
    turns scanning off explicitly. Anything else is a clamd address."""
    value = (setting or "").strip()
    if value.lower() in DISABLED:
        return None
    if value:
        return ClamdScanner(value)
    for candidate in candidates:
        if _is_socket(candidate):
            return ClamdScanner(candidate)
    return None


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(Path(path).stat().st_mode)
    except OSError:
        return False


class VirusScanner(Protocol):
    def scan(self, path: Path) -> str | None:
        """The signature name when the file is infected, None when it is clean.

        Raises VirusScanFailed when no verdict could be obtained."""
        ...


class ClamdScanner:
    """Speaks clamd's INSTREAM command.

    `address` is a Unix socket path ("/run/clamav/clamd.ctl", optionally prefixed
    "unix://") or "host:port" for TCP ("tcp://" prefix optional)."""

    def __init__(self, address: str, *, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout

    def scan(self, path: Path) -> str | None:
        try:
            with self._connect() as conn, path.open("rb") as handle:
                conn.sendall(b"zINSTREAM\0")
                while chunk := handle.read(_CHUNK):
                    conn.sendall(struct.pack(">I", len(chunk)) + chunk)
                conn.sendall(struct.pack(">I", 0))
                reply = _read_reply(conn)
        except OSError as exc:
            raise VirusScanFailed(f"clamd at {self.address} failed: {exc}") from exc
        return _verdict(reply, self.address)

    def _connect(self) -> socket.socket:
        target = self.address
        if target.startswith("unix://"):
            target = target.removeprefix("unix://")
        if "/" in target and not target.startswith("tcp://"):
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(self.timeout)
            try:
                conn.connect(target)
            except OSError:
                conn.close()
                raise
            return conn
        host, _, port = target.removeprefix("tcp://").rpartition(":")
        if not host or not port.isdigit():
            raise VirusScanFailed(f"clamd address {self.address!r} is not a path or host:port")
        return socket.create_connection((host.strip("[]"), int(port)), timeout=self.timeout)


def _read_reply(conn: socket.socket) -> bytes:
    reply = b""
    while b"\0" not in reply and len(reply) < _MAX_REPLY:
        part = conn.recv(_MAX_REPLY)
        if not part:
            break
        reply += part
    return reply.split(b"\0", 1)[0]


def _verdict(reply: bytes, address: str) -> str | None:
    text = reply.decode("utf-8", "replace").strip()
    body = text.split(": ", 1)[1] if ": " in text else text
    if body == "OK":
        return None
    if body.endswith(" FOUND"):
        return body.removesuffix(" FOUND").strip() or "unknown"
    raise VirusScanFailed(f"clamd at {address} answered an error: {text[:200]}")
