"""The embedded mail backend: each message becomes an .eml file in a folder.

Layout of the folder:

    20250301T120000123456Z-<id>.eml   one delivered message (RFC 5322, CRLF)
    .sent/<id>                        claim marker for an idempotency key; holds the
                                      file name the message was (or will be) written to

With an idempotency key the first attempt claims `.sent/<id>` atomically (a hard
link, so exactly one writer wins) before writing the message; a later attempt finds
the claim and only re-writes the message under the claimed name when it is missing,
which is what a crash between claim and write leaves behind. Concurrent or repeated
attempts therefore produce one file, never two.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

import structlog

from clinvault.mail.message import build_message, delivery_id, envelope_address
from clinvault.mail.ports import MailDeliveryFailed, OutgoingMail
from clinvault.timeutil import utcnow

_CLAIMS_DIR = ".sent"
_MESSAGE_NAME = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{32}\.eml")

log = structlog.get_logger(__name__)


class FolderMailer:
    def __init__(self, folder: Path, sender: str) -> None:
        envelope_address(sender)
        self._folder = folder
        self._sender = sender

    @property
    def folder(self) -> Path:
        return self._folder

    def __repr__(self) -> str:
        return f"FolderMailer(folder={str(self._folder)!r})"

    async def send(self, mail: OutgoingMail) -> None:
        now = utcnow()
        message = build_message(mail, sender=self._sender, now=now)
        try:
            written = await asyncio.to_thread(
                self._deliver, mail.idempotency_key, message.as_bytes(), now
            )
        except OSError as exc:
            raise MailDeliveryFailed(
                f"could not write mail to {self._folder}: {exc.strerror or exc}"
            ) from exc
        log.info(
            "mail.folder.written" if written else "mail.folder.duplicate_skipped",
            message_id=str(message["Message-ID"]),
        )

    async def check(self) -> None:
        try:
            await asyncio.to_thread(self._probe)
        except OSError as exc:
            raise MailDeliveryFailed(
                f"mail folder {self._folder} is not writable: {exc.strerror or exc}"
            ) from exc

    def _deliver(self, idempotency_key: str, data: bytes, now: datetime) -> bool:
        """Write the message unless its key was delivered already; return whether it wrote."""
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        ident = delivery_id(idempotency_key)
        name = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{ident}.eml"
        if idempotency_key:
            name = self._claim(ident, name)
            if (self._folder / name).exists():
                return False
        _write_atomically(self._folder / name, data)
        return True

    def _claim(self, ident: str, name: str) -> str:
        """Record `name` as the file for `ident` unless a claim exists; return the claimed name."""
        claims = self._folder / _CLAIMS_DIR
        claims.mkdir(mode=0o700, exist_ok=True)
        marker = claims / ident
        if marker.exists():
            return _read_claim(marker)
        pending = claims / f".{uuid.uuid4().hex}.tmp"
        try:
            _write_file(pending, name.encode("ascii"))
            try:
                os.link(pending, marker)
            except FileExistsError:
                return _read_claim(marker)
        finally:
            pending.unlink(missing_ok=True)
        _fsync_dir(claims)
        return name

    def _probe(self) -> None:
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = self._folder / f".probe-{uuid.uuid4().hex}.tmp"
        try:
            _write_file(probe, b"ok")
        finally:
            probe.unlink(missing_ok=True)


def _read_claim(marker: Path) -> str:
    name = marker.read_text("ascii").strip()
    if not _MESSAGE_NAME.fullmatch(name):
        raise MailDeliveryFailed(
            f"claim marker {marker} is corrupt; remove it to allow delivery", retryable=False
        )
    return name


def _write_atomically(target: Path, data: bytes) -> None:
    pending = target.with_name(f".{uuid.uuid4().hex}.tmp")
    try:
        _write_file(pending, data)
        pending.replace(target)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _write_file(path: Path, data: bytes) -> None:
    # 0600: messages carry sign-in and invitation links.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
