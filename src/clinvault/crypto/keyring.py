"""A key provider backed by a local JSON keyring file.

The file holds versioned 32-byte key-encryption keys (KEKs) and one root
secret. It is created on first use with mode 0600 inside a 0700 directory and
is always rewritten atomically. It belongs outside the data directory, so that
a copy of the data alone decrypts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clinvault.crypto.errors import (
    IntegrityError,
    KeyringError,
    KeyringPermissionsUnsafe,
    KeyVersionUnknown,
)
from clinvault.crypto.ports import KeyContext, WrappedKey
from clinvault.inputs import parse_json

FORMAT = "clinvault-keyring/1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
STABLE_PURPOSES = frozenset({"blind-index", "audit"})
KEYRING_MAX_DEPTH = 8
KEYRING_MAX_BYTES = 16 * 1024 * 1024
_UNSAFE_MODE_BITS = stat.S_IRWXG | stat.S_IRWXO


class DerivedKeyCache:
    """Purpose keys derived once per (purpose, key version) with HKDF-SHA256."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, int], bytes] = {}

    def get(self, purpose: str, version: int, ikm: bytes, info: str) -> bytes:
        key = self._keys.get((purpose, version))
        if key is None:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode())
            key = self._keys[(purpose, version)] = hkdf.derive(ikm)
        return key


@dataclass(frozen=True, slots=True, repr=False)
class _KeyringState:
    current: int
    root: bytes
    keys: dict[int, bytes]
    created_at: dict[int, str]


class LocalKeyring:
    """`KeyProvider` over a keyring file.

    Another process (the `keys rotate` command) may rotate the file while this
    one runs: a version met in a wrapped key or token that is not loaded yet
    triggers a reload, and `check()` re-reads the file and adopts a newer
    current version.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._state: _KeyringState | None = None
        self._derived = DerivedKeyCache()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def current_version(self) -> int:
        return self._loaded().current

    def versions(self) -> list[int]:
        return sorted(self._loaded().keys)

    async def new_data_key(self, context: KeyContext | None = None) -> tuple[bytes, WrappedKey]:
        data_key = os.urandom(KEY_BYTES)
        return data_key, await self.wrap(data_key, context)

    async def wrap(self, data_key: bytes, context: KeyContext | None = None) -> WrappedKey:
        # The context is not bound here: existing wrapped keys carry none (see KeyContext).
        state = self._loaded()
        version = state.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(state.keys[version]).encrypt(nonce, data_key, _wrap_aad(version))
        return WrappedKey(version=version, blob=nonce + sealed)

    async def unwrap(self, wrapped: WrappedKey, context: KeyContext | None = None) -> bytes:
        kek = self._kek(wrapped.version)
        blob = wrapped.blob
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise IntegrityError(f"wrapped key (version {wrapped.version}) is too short")
        try:
            return AESGCM(kek).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], _wrap_aad(wrapped.version)
            )
        except InvalidTag:
            raise IntegrityError(
                f"wrapped key (version {wrapped.version}) failed authentication"
            ) from None

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        """Return the 32-byte key for `purpose` (HKDF-SHA256).

        Rotating purposes ("field", "token", anything not listed below) derive
        from the KEK of `version`, the current one when None, so rotation gives
        them a new key while older versions stay derivable for reading.

        "blind-index" and "audit" derive from the root secret and ignore
        `version`: a blind index must map the same value to the same digest for
        as long as rows carry it, and the audit chain must verify from its first
        event. Rotating either would mean recomputing every stored index or
        re-signing history, so they never rotate.
        """
        if not purpose or not purpose.isascii():
            raise ValueError("key purpose must be a non-empty ASCII string")
        if purpose in STABLE_PURPOSES:
            return self._cached(purpose, 0, self._loaded().root, f"clinvault/root/{purpose}")
        actual = self.current_version if version is None else version
        return self._cached(
            purpose, actual, self._kek(actual), f"clinvault/kek/{purpose}/v{actual}"
        )

    async def rotate(self) -> int:
        """Add a new KEK and make it current; return its version."""
        return await asyncio.to_thread(self._rotate_sync)

    async def check(self) -> None:
        """Raise `KeyringError` unless the file is present, private and consistent."""
        await asyncio.to_thread(self._check_sync)

    def _loaded(self) -> _KeyringState:
        state = self._state
        if state is None:
            with self._lock:
                if self._state is None:
                    self._state = self._load_or_create()
                state = self._state
        return state

    def _kek(self, version: int) -> bytes:
        key = self._loaded().keys.get(version)
        if key is None:
            key = self._reload().keys.get(version)
        if key is None:
            raise KeyVersionUnknown(f"key version {version} is not in keyring {self._path}")
        return key

    def _cached(self, purpose: str, version: int, ikm: bytes, info: str) -> bytes:
        return self._derived.get(purpose, version, ikm, info)

    def _load_or_create(self) -> _KeyringState:
        state = _read_state(self._path)
        if state is not None:
            return state
        _ensure_private_dir(self._path.parent)
        with _exclusive(self._path):
            # Another process may have created it while this one waited for the lock.
            state = _read_state(self._path)
            if state is None:
                state = _new_state()
                _write_atomic(self._path, _encode(state))
        return state

    def _reload(self) -> _KeyringState:
        fresh = self._read_existing()
        with self._lock:
            self._adopt(fresh)
        return fresh

    def _rotate_sync(self) -> int:
        self._loaded()
        with _exclusive(self._path):
            state = self._read_existing()
            version = max(state.keys) + 1
            rotated = _KeyringState(
                current=version,
                root=state.root,
                keys={**state.keys, version: os.urandom(KEY_BYTES)},
                created_at={**state.created_at, version: _now()},
            )
            _write_atomic(self._path, _encode(rotated))
        with self._lock:
            self._adopt(rotated)
        return version

    def _check_sync(self) -> None:
        self._loaded()
        self._reload()

    def _read_existing(self) -> _KeyringState:
        state = _read_state(self._path)
        if state is None:
            raise KeyringError(f"keyring file {self._path} is missing; restore it from backup")
        return state

    def _adopt(self, fresh: _KeyringState) -> None:
        old = self._state
        if old is not None and (
            fresh.root != old.root or any(fresh.keys.get(v) != k for v, k in old.keys.items())
        ):
            raise KeyringError(
                f"keyring file {self._path} no longer holds the keys loaded earlier; "
                "restore it from backup"
            )
        self._state = fresh


def _wrap_aad(version: int) -> bytes:
    return f"clinvault/wrap/v{version}".encode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_state() -> _KeyringState:
    return _KeyringState(
        current=1,
        root=os.urandom(KEY_BYTES),
        keys={1: os.urandom(KEY_BYTES)},
        created_at={1: _now()},
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _encode(state: _KeyringState) -> bytes:
    document = {
        "format": FORMAT,
        "current_version": state.current,
        "root_secret": _b64(state.root),
        "keys": [
            {"version": v, "key": _b64(state.keys[v]), "created_at": state.created_at[v]}
            for v in sorted(state.keys)
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _decode_key(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("key is not a base64 string")
    raw = base64.b64decode(value, validate=True)
    if len(raw) != KEY_BYTES:
        raise ValueError(f"key is {len(raw)} bytes, expected {KEY_BYTES}")
    return raw


def _decode(raw: bytes, path: Path) -> _KeyringState:
    # Errors are re-raised without their cause so no fragment of the file leaks.
    try:
        document = parse_json(
            raw, max_depth=KEYRING_MAX_DEPTH, max_bytes=KEYRING_MAX_BYTES, source="The keyring"
        )
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        keys: dict[int, bytes] = {}
        created_at: dict[int, str] = {}
        for entry in document["keys"]:
            version = entry["version"]
            if type(version) is not int or version < 1 or version in keys:
                raise ValueError("key versions must be distinct positive integers")
            keys[version] = _decode_key(entry["key"])
            created_at[version] = str(entry.get("created_at", ""))
        current = document["current_version"]
        if type(current) is not int or current not in keys:
            raise ValueError("current_version names no key")
        root = _decode_key(document["root_secret"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyringError(f"keyring file {path} is malformed: {exc}") from None
    return _KeyringState(current=current, root=root, keys=keys, created_at=created_at)


def _read_state(path: Path) -> _KeyringState | None:
    """The parsed keyring, or None when the file does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyringError(f"cannot open keyring file {path}: {exc.strerror}") from exc
    with open(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyringError(f"keyring path {path} is not a regular file")
        if info.st_mode & _UNSAFE_MODE_BITS:
            raise KeyringPermissionsUnsafe(
                f"keyring file {path} has mode {stat.S_IMODE(info.st_mode):04o} and other "
                f"users can access it; restrict it with: chmod 600 {path}"
            )
        try:
            raw = handle.read()
        except OSError as exc:
            raise KeyringError(f"cannot read keyring file {path}: {exc.strerror}") from exc
    return _decode(raw, path)


def _ensure_private_dir(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        return
    os.chmod(directory, 0o700)
    _fsync_dir(directory.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Serialise creation and rotation across processes sharing the keyring.

    Without it two concurrent rotations could both write version N+1 with
    different keys, and data wrapped under the losing one would be lost.
    """
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
