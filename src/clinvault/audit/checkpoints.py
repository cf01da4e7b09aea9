"""Signed checkpoints of the audit chain: the local file and the external anchor.

A checkpoint records the chain head after a chainer run: its position
(`chain_seq`), its hash, the time, and the hash of the checkpoint before it,
signed with the audit signing key (Ed25519). Every checkpoint is appended to
the local NDJSON file; with an anchor configured (S3 Object Lock, an
append-only directory, syslog) the newest one is also sent there, at most
every `anchor_interval` seconds and always at shutdown. The file can be
rewritten by whoever holds the host; the anchor is what they cannot rewrite.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import structlog

from clinvault.audit.signing import CheckpointSigner, CheckpointVerifier
from clinvault.inputs import parse_json
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

VERSION = 2
DOMAIN = b"clinvault-audit-checkpoint/2\n"
NO_PREVIOUS = "0" * 64
_TAIL_BYTES = 4096
MAX_CHECKPOINT_LINE = 64 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_LOCK_POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One chain head. `prev`, `key` and `sig` are empty on a legacy unsigned line."""

    chain_seq: int
    chain_hash: str
    at: str
    prev: str = ""
    key: str = ""
    sig: str = ""

    def _fields(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "chain_seq": self.chain_seq,
            "chain_hash": self.chain_hash,
            "at": self.at,
            "prev": self.prev,
            "key": self.key,
        }

    def payload(self) -> bytes:
        """The exact bytes the signature covers."""
        return DOMAIN + _canonical(self._fields()).encode()

    def line(self) -> str:
        return _canonical({**self._fields(), "sig": self.sig})

    def digest(self) -> str:
        """What the next checkpoint's `prev` names: SHA-256 of this signed line."""
        return hashlib.sha256(self.line().encode()).hexdigest()

    def signed_with(self, signer: CheckpointSigner) -> Checkpoint:
        unsigned = replace(self, key=signer.key_id, sig="")
        return replace(unsigned, sig=signer.sign(unsigned.payload()))

    def signature_problem(self, verifier: CheckpointVerifier) -> str | None:
        """None when `verifier` accepts the signature; otherwise what is wrong."""
        if not self.sig:
            return "is not signed"
        if self.key != verifier.key_id:
            return f"is signed by key {self.key or '?'}, not the audit key {verifier.key_id}"
        if not verifier.valid(self.payload(), self.sig):
            return "has a signature that does not match its content (altered or forged)"
        return None

    @classmethod
    def parse(cls, raw: str) -> Checkpoint:
        """Read one line; ValueError when it is not a well-formed checkpoint."""
        try:
            data = parse_json(raw, max_depth=4, max_bytes=MAX_CHECKPOINT_LINE, source="a line")
            chain_seq, chain_hash = data["chain_seq"], data["chain_hash"]
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a checkpoint: {exc}") from None
        if not isinstance(chain_seq, int) or isinstance(chain_seq, bool) or chain_seq < 1:
            raise ValueError("chain_seq must be a positive integer")
        if not isinstance(chain_hash, str) or not _HEX64.match(chain_hash):
            raise ValueError("chain_hash must be 64 hexadecimal characters")
        fields = {name: data.get(name, "") for name in ("at", "prev", "key", "sig")}
        if not all(isinstance(value, str) for value in fields.values()):
            raise ValueError("at, prev, key and sig must be strings")
        if fields["prev"] and not _HEX64.match(fields["prev"]):
            raise ValueError("prev must be 64 hexadecimal characters")
        if data.get("v", VERSION) != VERSION and fields["sig"]:
            raise ValueError(f"unknown checkpoint version {data.get('v')!r}")
        return cls(chain_seq, chain_hash, **fields)


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class CheckpointFile:
    """Append-only NDJSON checkpoints, fsynced, kept outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _open_for_append(self) -> tuple[int, bool]:
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return fd, created

    def append(self, checkpoint: Checkpoint) -> None:
        fd, created = self._open_for_append()
        try:
            os.write(fd, (checkpoint.line() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the file's lock: one writer at a time, across tasks and processes.

        Polled without blocking a thread, so a cancelled waiter leaves no lock behind.
        """
        fd, _ = self._open_for_append()
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(_LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(fd)

    def size(self) -> int:
        """Bytes written so far; lines after this offset are not read by `scan`."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def scan(self, until: int | None = None) -> Iterator[tuple[int, Checkpoint | None]]:
        """Yield (line number, checkpoint or None when malformed), streaming.

        With `until`, stop at that byte offset, so lines appended while a
        verification runs are left for the next one.
        """
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            consumed = 0
            for number, raw in enumerate(handle, start=1):
                consumed += len(raw)
                if until is not None and consumed > until:
                    return
                text = raw.decode("utf-8", errors="replace").strip()
                if not text:
                    continue
                try:
                    yield number, Checkpoint.parse(text)
                except ValueError:
                    yield number, None

    def last(self) -> Checkpoint | None:
        """The newest well-formed checkpoint, read from the end of the file."""
        try:
            with self.path.open("rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, end - _TAIL_BYTES))
                tail = handle.read()
        except FileNotFoundError:
            return None
        for raw in reversed(tail.decode("utf-8", errors="replace").splitlines()):
            if raw.strip():
                try:
                    return Checkpoint.parse(raw)
                except ValueError:
                    return None
        return None

    def read(self) -> list[Checkpoint]:
        return [checkpoint for _, checkpoint in self.scan() if checkpoint is not None]


class AnchorExists(Exception):
    """The anchor already holds a checkpoint at this position (written before a restart)."""


class Anchor(Protocol):
    """Where checkpoints go that the database host cannot rewrite."""

    @property
    def description(self) -> str: ...

    def put(self, checkpoint: Checkpoint) -> None:
        """Store one checkpoint as a new entry; AnchorExists when its position is taken."""
        ...


@dataclass(frozen=True, slots=True)
class Anchored:
    """One entry read back from an anchor: the checkpoint (None when unreadable) and where."""

    checkpoint: Checkpoint | None
    where: str
    named_seq: int | None = None


class AnchorReader(Protocol):
    """An anchor that can be read back, newest position first."""

    @property
    def description(self) -> str: ...

    def newest_first(self) -> Iterator[Anchored]: ...


class Checkpointer:
    """Signs each new chain head, appends it to the file and sends it to the anchor."""

    def __init__(
        self,
        file: CheckpointFile,
        signer: CheckpointSigner,
        anchor: Anchor | None = None,
        anchor_interval: float = 0.0,
    ) -> None:
        self.file = file
        self.signer = signer
        self.anchor = anchor
        self.anchor_interval = anchor_interval
        self._unanchored: Checkpoint | None = None
        self._anchored_at = -math.inf

    @property
    def path(self) -> Path:
        return self.file.path

    def exclusive(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.file.exclusive()

    def last(self) -> Checkpoint | None:
        return self.file.last()

    def record(self, chain_seq: int, chain_hash: str) -> Checkpoint:
        """Sign and append the checkpoint of a new head; anchor it when due. Blocking."""
        previous = self.file.last()
        checkpoint = Checkpoint(
            chain_seq=chain_seq,
            chain_hash=chain_hash,
            at=utcnow().isoformat(),
            prev=previous.digest() if previous is not None else NO_PREVIOUS,
        ).signed_with(self.signer)
        self.file.append(checkpoint)
        self._unanchored = checkpoint
        self.anchor_pending()
        return checkpoint

    def anchor_pending(self, *, force: bool = False) -> bool:
        """Send the newest checkpoint not yet anchored, when due (or `force`). Blocking.

        A failure is logged and the checkpoint kept for the next attempt; chaining
        goes on meanwhile. Returns whether a checkpoint was anchored.
        """
        checkpoint = self._unanchored
        if self.anchor is None or checkpoint is None:
            return False
        if not force and time.monotonic() - self._anchored_at < self.anchor_interval:
            return False
        try:
            self.anchor.put(checkpoint)
        except AnchorExists:
            log.info("audit.anchor.exists", chain_seq=checkpoint.chain_seq)
        except Exception:
            log.exception(
                "audit.anchor.failed",
                sink=self.anchor.description,
                chain_seq=checkpoint.chain_seq,
            )
            return False
        else:
            log.info(
                "audit.anchor.stored", sink=self.anchor.description, chain_seq=checkpoint.chain_seq
            )
        self._unanchored = None
        self._anchored_at = time.monotonic()
        return True
