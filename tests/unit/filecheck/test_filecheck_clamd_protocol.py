"""ClamdScanner against a small clamd peer that speaks INSTREAM over TCP and Unix."""

from __future__ import annotations

import os
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.unit.filecheck import corpus

from clinvault.filecheck import ClamdScanner, VirusScanFailed


class _Peer:
    """Records what each INSTREAM carried and answers with `reply(data)`."""

    def __init__(self, reply: Callable[[bytes], bytes]) -> None:
        self.reply = reply
        self.received: list[bytes] = []
        self.commands: list[bytes] = []

    def handler(self) -> type[socketserver.BaseRequestHandler]:
        peer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                command = b""
                while not command.endswith(b"\0"):
                    command += self.rfile.read(1)
                peer.commands.append(command)
                data = b""
                while True:
                    (length,) = struct.unpack(">I", self.rfile.read(4))
                    if length == 0:
                        break
                    data += self.rfile.read(length)
                peer.received.append(data)
                self.wfile.write(peer.reply(data) + b"\0")

        return Handler


def _eicar_aware(data: bytes) -> bytes:
    return b"stream: Eicar-Signature FOUND" if corpus.EICAR in data else b"stream: OK"


@pytest.fixture
def tcp_peer() -> Iterator[tuple[_Peer, str]]:
    peer = _Peer(_eicar_aware)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), peer.handler())
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield peer, f"{host}:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def unix_peer(tmp_path: Path) -> Iterator[tuple[_Peer, str]]:
    peer = _Peer(_eicar_aware)
    path = str(tmp_path / "clamd.sock")
    server = socketserver.ThreadingUnixStreamServer(path, peer.handler())
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield peer, path
    server.shutdown()
    server.server_close()


def test_a_clean_file_is_streamed_whole_in_chunks(
    tcp_peer: tuple[_Peer, str], tmp_path: Path
) -> None:
    peer, address = tcp_peer
    data = os.urandom(200_000)  # several INSTREAM chunks
    path = corpus.write(tmp_path / "upload", data)

    assert ClamdScanner(address).scan(path) is None
    assert peer.commands == [b"zINSTREAM\0"]
    assert peer.received == [data]


def test_an_infected_file_returns_the_signature(
    tcp_peer: tuple[_Peer, str], tmp_path: Path
) -> None:
    _, address = tcp_peer
    path = corpus.write(tmp_path / "upload", corpus.EICAR)

    assert ClamdScanner(f"tcp://{address}").scan(path) == "Eicar-Signature"


def test_a_unix_socket_address_is_used_as_a_path(
    unix_peer: tuple[_Peer, str], tmp_path: Path
) -> None:
    peer, path = unix_peer
    clean = corpus.write(tmp_path / "clean", corpus.valid_pdf())
    infected = corpus.write(tmp_path / "infected", corpus.pdf_carrying(corpus.EICAR))

    assert ClamdScanner(path).scan(clean) is None
    assert ClamdScanner(f"unix://{path}").scan(infected) == "Eicar-Signature"
    assert len(peer.received) == 2


def test_an_error_reply_is_a_failed_scan(tmp_path: Path) -> None:
    peer = _Peer(lambda _: b"INSTREAM size limit exceeded. ERROR")
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), peer.handler())
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        path = corpus.write(tmp_path / "upload", b"x" * 10)
        with pytest.raises(VirusScanFailed, match="size limit"):
            ClamdScanner(f"{host}:{port}").scan(path)
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_daemon_is_a_failed_scan(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    path = corpus.write(tmp_path / "upload", b"x")

    with pytest.raises(VirusScanFailed):
        ClamdScanner(f"127.0.0.1:{free_port}", timeout=2).scan(path)
    with pytest.raises(VirusScanFailed):
        ClamdScanner(str(tmp_path / "missing.sock"), timeout=2).scan(path)


def test_a_malformed_address_is_a_failed_scan(tmp_path: Path) -> None:
    path = corpus.write(tmp_path / "upload", b"x")

    with pytest.raises(VirusScanFailed, match="not a path or host:port"):
        ClamdScanner("clamd-without-port").scan(path)
