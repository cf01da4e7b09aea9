"""The Ed25519 key that signs audit checkpoints, and the public key that checks them.

The private key signs every checkpoint the chainer writes; only the public
key is needed to verify, so an auditor can check the log and its anchors on a
machine that never held the private key. The private key file lives outside
the data directory (a separate, protected volume in production). Outside
production a missing pair is generated on first use: the private key 0600 in
a 0700 directory, the public key beside it. In production a missing private
key stops start-up with a message saying how to create one
(`clinvault audit keygen`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clinvault.crypto.errors import KeyringError

_UNSAFE_MODE_BITS = stat.S_IRWXG | stat.S_IRWXO


class AuditSigningKeyError(KeyringError):
    """The checkpoint signing or verify key is missing, unreadable, unsafe or mismatched."""


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256 over the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CheckpointVerifier:
    """Checks checkpoint signatures with a public key."""

    public: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def valid(self, payload: bytes, signature: str) -> bool:
        try:
            raw = base64.urlsafe_b64decode(signature.encode("ascii") + b"==")
        except (ValueError, UnicodeEncodeError):
            return False
        try:
            self.public.verify(raw, payload)
        except InvalidSignature:
            return False
        return True


class CheckpointSigner:
    """Signs checkpoint payloads with the private key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.verifier = CheckpointVerifier(private.public_key())

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(self._private.sign(payload)).rstrip(b"=").decode()


def generate_key_pair(private_path: Path, public_path: Path) -> CheckpointSigner:
    """Write a new key pair; refuse to replace an existing private key."""
    private = Ed25519PrivateKey.generate()
    _ensure_private_dir(private_path.parent)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise AuditSigningKeyError(
            f"audit signing key {private_path} already exists; it is never overwritten"
        ) from None
    with open(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    signer = CheckpointSigner(private)
    _write_public(public_path, signer.verifier.public)
    return signer


def load_signer(private_path: Path, public_path: Path, *, create: bool) -> CheckpointSigner:
    """The signer from `private_path`; generated there first when missing and `create`."""
    raw = _read_private_file(private_path)
    if raw is None:
        if not create:
            raise AuditSigningKeyError(
                f"audit signing key {private_path} does not exist: create it on a protected "
                "volume outside the data directory with `clinvault audit keygen` and point "
                "CLINVAULT_AUDIT_SIGNING_KEY_PATH at it"
            )
        try:
            return generate_key_pair(private_path, public_path)
        except AuditSigningKeyError:
            raw = _read_private_file(private_path)  # another process created it meanwhile
            if raw is None:
                raise
    try:
        private = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise AuditSigningKeyError(
            f"audit signing key {private_path} is not a PEM private key: {exc}"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise AuditSigningKeyError(f"audit signing key {private_path} is not an Ed25519 key")
    signer = CheckpointSigner(private)
    if not public_path.exists():
        _write_public(public_path, signer.verifier.public)
    return signer


def load_verifier(public_path: Path, private_path: Path | None = None) -> CheckpointVerifier:
    """The public key at `public_path`, or derived from the private key when only it exists.

    When both exist they must belong together: a public key replaced by
    someone else's would otherwise accept checkpoints that key signed.
    """
    derived: CheckpointVerifier | None = None
    if private_path is not None and _read_private_file(private_path) is not None:
        derived = load_signer(private_path, public_path, create=False).verifier
    try:
        raw = public_path.read_bytes()
    except FileNotFoundError:
        if derived is not None:
            return derived
        raise AuditSigningKeyError(
            f"audit verify key {public_path} does not exist: copy the public key written by "
            "`clinvault audit keygen` there, or set CLINVAULT_AUDIT_VERIFY_KEY_PATH"
        ) from None
    except OSError as exc:
        raise AuditSigningKeyError(f"cannot read audit verify key {public_path}: {exc}") from None
    try:
        public = serialization.load_pem_public_key(raw)
    except (ValueError, TypeError) as exc:
        raise AuditSigningKeyError(
            f"audit verify key {public_path} is not a PEM public key: {exc}"
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise AuditSigningKeyError(f"audit verify key {public_path} is not an Ed25519 key")
    verifier = CheckpointVerifier(public)
    if derived is not None and derived.key_id != verifier.key_id:
        raise AuditSigningKeyError(
            f"audit verify key {public_path} (key {verifier.key_id}) does not belong to the "
            f"signing key (key {derived.key_id}): restore the public key that was generated "
            "with it"
        )
    return verifier


def _read_private_file(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditSigningKeyError(
            f"cannot open audit signing key {path}: {exc.strerror}"
        ) from None
    with open(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise AuditSigningKeyError(f"audit signing key {path} is not a regular file")
        if info.st_mode & _UNSAFE_MODE_BITS:
            raise AuditSigningKeyError(
                f"audit signing key {path} has mode {stat.S_IMODE(info.st_mode):04o} and other "
                f"users can access it; restrict it with: chmod 600 {path}"
            )
        return handle.read()


def _write_public(path: Path, public: Ed25519PublicKey) -> None:
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _ensure_private_dir(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        return
    os.chmod(directory, 0o700)
