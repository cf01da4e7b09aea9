"""Encrypted object writes and reads against the bare floor, in one run.

The floor: SHA-256 + one-shot AES-256-GCM of the same bytes, written to a
file and fsynced. The measured path: EncryptedObjectStore.put/get on the
local storage adapter (streamed 64 KiB frames, temp file, fsync, rename,
directory fsync) and the streamed, checksum-verified read back.

    .venv/bin/python bench/crypto_stream.py [--sizes 1,16] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinvault.crypto.keyring import LocalKeyring
from clinvault.storage.local import LocalStorage
from clinvault.storage.objects import EncryptedObjectStore

MIB = 1024 * 1024


def floor_write(path: Path, data: bytes) -> None:
    hashlib.sha256(data).hexdigest()
    sealed = AESGCM(os.urandom(32)).encrypt(os.urandom(12), data, None)
    with path.open("wb") as handle:
        handle.write(sealed)
        handle.flush()
        os.fsync(handle.fileno())


async def stream(data: bytes, piece: int = 256 * 1024) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), piece):
        yield bytes(view[start : start + piece])


def summary(label: str, size: int, seconds: list[float]) -> float:
    seconds.sort()
    p50 = statistics.median(seconds)
    p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
    rate = size / MIB / p50
    print(
        f"  {label:<22} {rate:8.1f} MB/s  {1 / p50:7.1f} files/s  "
        f"p50 {p50 * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms"
    )
    return rate


async def run(sizes: list[int], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keys = LocalKeyring(root / "keys" / "keyring.json")
        store = EncryptedObjectStore(LocalStorage(root / "objects"), keys)
        machine = f"{platform.machine()} {os.cpu_count()} cores"
        print(f"machine: {machine}, python {platform.python_version()}")
        for size_mib in sizes:
            data = os.urandom(size_mib * MIB)
            floor, put, get = [], [], []
            for i in range(rounds):
                started = time.perf_counter()
                floor_write(root / f"floor-{i}", data)
                floor.append(time.perf_counter() - started)

                started = time.perf_counter()
                stored = await store.put(f"bench/{size_mib}/{i}", stream(data))
                put.append(time.perf_counter() - started)

                started = time.perf_counter()
                read = 0
                key = f"bench/{size_mib}/{i}"
                async for chunk in store.get(key, stored.wrapped, stored.sha256):
                    read += len(chunk)
                get.append(time.perf_counter() - started)
                assert read == len(data)
            print(f"{size_mib} MiB x {rounds}")
            base = summary("floor (sha+gcm+fsync)", len(data), floor)
            write = summary("encrypted put", len(data), put)
            summary("verified get", len(data), get)
            print(f"  ratio put/floor: {write / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,16")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run([int(s) for s in args.sizes.split(",")], args.rounds))


if __name__ == "__main__":
    main()
