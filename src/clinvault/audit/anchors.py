"""Anchors: places the database host can add checkpoints to but not rewrite.

Chosen by CLINVAULT_AUDIT_ANCHOR_URL:

- `s3://bucket/prefix`: each checkpoint a new object `prefix/<chain_seq>.json`
  under S3 Object Lock in COMPLIANCE mode for the retention period. Read back
  over every object version, so a delete marker or a newer version written
  over a key hides nothing.
- `file:///mount/dir`: each checkpoint a new read-only file created
  exclusively in a directory that another host makes append-only.
- `syslog://host:514` (UDP), `syslog+tcp://host:601` or `syslog:///dev/log`:
  one line per checkpoint to a log server; write-only from here, so verify
  reads the lines that server kept (`audit verify --anchor-log FILE`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clinvault.audit.checkpoints import Anchor, Anchored, AnchorExists, AnchorReader, Checkpoint
from clinvault.timeutil import utcnow

SYSLOG_MARKER = "clinvault-audit-checkpoint "
# Objects are read back in chunks, several at a time.
_FETCHERS = 8
_FETCH_CHUNK = 256
_NAME = re.compile(r"^(\d{20})\.json$")


def entry_name(chain_seq: int) -> str:
    """Zero-padded so that names sort in chain order."""
    return f"{chain_seq:020d}.json"


def _parse_entry(raw: bytes, where: str, named_seq: int | None) -> Anchored:
    try:
        checkpoint = Checkpoint.parse(raw.decode("utf-8", errors="replace").strip())
    except ValueError:
        return Anchored(None, where, named_seq)
    return Anchored(checkpoint, where, named_seq)


class S3ObjectLockAnchor:
    """Checkpoints as Object Lock (COMPLIANCE) objects in a bucket created with Object Lock."""

    def __init__(self, client: Any, bucket: str, prefix: str, retention_days: int) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.retention_days = retention_days

    @property
    def description(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, chain_seq: int) -> str:
        return self.prefix + entry_name(chain_seq)

    def put(self, checkpoint: Checkpoint) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.key(checkpoint.chain_seq),
                Body=(checkpoint.line() + "\n").encode(),
                ContentType="application/json",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=utcnow() + timedelta(days=self.retention_days),
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "PreconditionFailed":
                raise AnchorExists(self.key(checkpoint.chain_seq)) from None
            raise

    def newest_first(self) -> Iterator[Anchored]:
        """Every version of every checkpoint object, highest position first."""
        found: list[tuple[int, str, str, str]] = []
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for version in page.get("Versions", []):
                match = _NAME.match(version["Key"][len(self.prefix) :])
                if match is None:
                    continue
                modified = version["LastModified"].isoformat()
                found.append((int(match.group(1)), modified, version["Key"], version["VersionId"]))
        found.sort(reverse=True)
        with ThreadPoolExecutor(max_workers=_FETCHERS) as pool:
            for start in range(0, len(found), _FETCH_CHUNK):
                yield from pool.map(self._fetch, found[start : start + _FETCH_CHUNK])

    def _fetch(self, listed: tuple[int, str, str, str]) -> Anchored:
        chain_seq, _, key, version_id = listed
        body = self._client.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        return _parse_entry(body["Body"].read(), f"object {key} version {version_id}", chain_seq)


class DirectoryAnchor:
    """Checkpoints as files created exclusively (never replaced) in a directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return f"file://{self.path}"

    def put(self, checkpoint: Checkpoint) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / entry_name(checkpoint.chain_seq)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        except FileExistsError:
            raise AnchorExists(str(target)) from None
        try:
            os.write(fd, (checkpoint.line() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        directory = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def newest_first(self) -> Iterator[Anchored]:
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return
        entries = sorted(
            ((int(match.group(1)), name) for name in names if (match := _NAME.match(name))),
            reverse=True,
        )
        for chain_seq, name in entries:
            try:
                raw = (self.path / name).read_bytes()
            except OSError:
                yield Anchored(None, f"file {name} (unreadable)", chain_seq)
                continue
            yield _parse_entry(raw, f"file {name}", chain_seq)


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging API)
        raise


class SyslogAnchor:
    """One syslog line per checkpoint: `clinvault-audit-checkpoint {json}`."""

    def __init__(
        self,
        address: tuple[str, int] | str,
        *,
        tcp: bool = False,
        facility: str = "user",
    ) -> None:
        if facility not in logging.handlers.SysLogHandler.facility_names:
            raise ValueError(f"unknown syslog facility {facility!r}")
        self.address = address
        self.facility = facility
        self.tcp = tcp
        self._handler: _RaisingSysLogHandler | None = None

    @property
    def description(self) -> str:
        if isinstance(self.address, str):
            return f"syslog://{self.address}"
        scheme = "syslog+tcp" if self.tcp else "syslog"
        return f"{scheme}://{self.address[0]}:{self.address[1]}"

    def _open(self) -> _RaisingSysLogHandler:
        if self._handler is None:
            socktype = socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM
            self._handler = _RaisingSysLogHandler(
                address=self.address,
                facility=logging.handlers.SysLogHandler.facility_names[self.facility],
                socktype=None if isinstance(self.address, str) else socktype,
            )
            self._handler.append_nul = False
        return self._handler

    def put(self, checkpoint: Checkpoint) -> None:
        # Over TCP a line feed ends each message (RFC 6587 non-transparent framing).
        ending = "\n" if self.tcp else ""
        record = logging.makeLogRecord(
            {"msg": SYSLOG_MARKER + checkpoint.line() + ending, "levelno": logging.INFO}
        )
        record.levelname = "INFO"
        handler = self._open()
        try:
            handler.emit(record)
        except OSError:
            handler.close()
            self._handler = None
            raise

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()
            self._handler = None


class LogLinesReader:
    """Checkpoint lines kept by a log server, read from a file (for syslog anchors)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return f"checkpoint lines in {self.path}"

    def newest_first(self) -> Iterator[Anchored]:
        entries: list[tuple[int, int, Anchored]] = []
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                text = raw.decode("utf-8", errors="replace")
                if SYSLOG_MARKER not in text:
                    continue
                entry = _parse_entry(
                    text.split(SYSLOG_MARKER, 1)[1].encode(), f"line {number}", None
                )
                position = entry.checkpoint.chain_seq if entry.checkpoint else 0
                entries.append((position, number, entry))
        entries.sort(key=lambda item: (item[0], item[1]), reverse=True)
        for _, _, entry in entries:
            yield entry


ANCHOR_SCHEMES = ("s3", "file", "syslog", "syslog+tcp")


def open_anchor(
    url: str, *, retention_days: int, s3_endpoint_url: str | None = None
) -> Anchor | None:
    """The anchor named by `url`; None for an empty URL (the local file only)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=s3_endpoint_url or None)
        return S3ObjectLockAnchor(client, parts.netloc, parts.path, retention_days)
    if parts.scheme == "file":
        return DirectoryAnchor(Path(parts.netloc + parts.path))
    if parts.scheme in ("syslog", "syslog+tcp"):
        facility = parse_qs(parts.query).get("facility", ["user"])[0]
        if parts.hostname:
            return SyslogAnchor(
                (parts.hostname, parts.port or 514),
                tcp=parts.scheme == "syslog+tcp",
                facility=facility,
            )
        return SyslogAnchor(parts.path, facility=facility)
    raise ValueError(f"unsupported audit anchor {url!r}: use one of {', '.join(ANCHOR_SCHEMES)}")


def anchor_reader(anchor: Anchor | None) -> AnchorReader | None:
    """The anchor itself when it can be read back (S3, directory); None for syslog."""
    if isinstance(anchor, S3ObjectLockAnchor | DirectoryAnchor):
        return anchor
    return None
