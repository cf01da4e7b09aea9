"""The load side of the HTTP benchmarks: a lean keep-alive client, a closed-loop
generator, and the server's CPU time per request."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from _common import MIB, percentile


@dataclass
class Reply:
    status: int
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection, requests one at a time.

    A few lines of asyncio instead of httpx on purpose: on two shared cores
    httpx's connection pool costs more CPU than the server under test and its
    throughput falls as connections are added (73 req/s against a hello-world
    uvicorn at 32 connections, where this client drives 5,000).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        host, _, port = base_url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port), limit=4 * MIB)
        return cls(reader, writer, host)

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Reply:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        if body:
            self._writer.write(body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if fields.get("transfer-encoding", "").lower() == "chunked":
            payload = bytearray()
            while size := int((await self._reader.readuntil(b"\r\n")).strip(), 16):
                payload += await self._reader.readexactly(size + 2)
                del payload[-2:]
            await self._reader.readuntil(b"\r\n")
            data = bytes(payload)
        else:
            data = await self._reader.readexactly(int(fields.get("content-length", "0")))
        return Reply(int(status_line.split(" ", 2)[1]), data)

    async def close(self) -> None:
        self._writer.close()
        with suppress(OSError):
            await self._writer.wait_closed()


def group_stats(group: int) -> Iterator[tuple[Path, list[str]]]:
    """/proc/<pid> and the stat fields after the name, of every live process in `group`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # fields after the name: state, ppid, pgrp, ...
            yield stat.parent, fields


def group_cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every live process in process group `group`."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f[11]) + int(f[12]) for _, f in group_stats(group)) / ticks


@dataclass
class LoadResult:
    latencies: list[float]
    seconds: float
    errors: int
    statuses: dict[int, int]
    cpu_ms_per_request: float | None = None

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self, label: str) -> str:
        p50, p99 = percentile(self.latencies, 0.5), percentile(self.latencies, 0.99)
        return (
            f"  {label:<28} {self.rate:8.1f} req/s  p50 {p50 * 1000:7.2f} ms  "
            f"p99 {p99 * 1000:7.2f} ms  ({len(self.latencies)} ok, {self.errors} failed)"
            + (
                f"  server CPU {self.cpu_ms_per_request:.2f} ms/req"
                if self.cpu_ms_per_request is not None
                else ""
            )
        )


RequestSpec = tuple[str, str, dict[str, str]]
"""method, path, headers: what the nth request of a load run sends."""


async def closed_loop(
    base_url: str,
    request: Callable[[int], RequestSpec],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 2.0,
    expect: int = 200,
    server_group: int | None = None,
) -> LoadResult:
    """`concurrency` clients, each on its own keep-alive connection, sending the next
    request as soon as the last one is answered; only the measured window counts.

    With `server_group` (the server's process group) the result also carries the
    server's CPU time per request: a figure that other load on the machine does not
    inflate the way it inflates latencies.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    cpu_from: float | None = None
    connections = [await Connection.open(base_url) for _ in range(concurrency)]
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def user(index: int, connection: Connection) -> None:
        nonlocal errors, cpu_from
        sequence = index
        while (now := time.perf_counter()) < stop_at:
            method, path, headers = request(sequence)
            reply = await connection.request(method, path, headers)
            sequence += concurrency
            elapsed = time.perf_counter() - now
            if now < measure_from:
                continue
            if cpu_from is None and server_group is not None:
                cpu_from = group_cpu_seconds(server_group)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
            if reply.status == expect:
                latencies.append(elapsed)
            else:
                errors += 1

    try:
        await asyncio.gather(*(user(i, c) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()
    window = time.perf_counter() - measure_from
    if not latencies:
        raise RuntimeError(f"no successful request; statuses {statuses}")
    result = LoadResult(latencies, window, errors, statuses)
    if server_group is not None and cpu_from is not None:
        spent = group_cpu_seconds(server_group) - cpu_from
        result.cpu_ms_per_request = spent * 1000 / (len(latencies) + errors)
    return result
