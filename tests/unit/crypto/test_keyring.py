from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from clinvault.crypto.errors import (
    IntegrityError,
    KeyringError,
    KeyringPermissionsUnsafe,
    KeyVersionUnknown,
)
from clinvault.crypto.factory import open_key_provider
from clinvault.crypto.keyring import LocalKeyring
from clinvault.crypto.ports import KeyProvider, WrappedKey


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "keys" / "keyring.json"


@pytest.fixture
def keyring(keyring_path: Path) -> LocalKeyring:
    return LocalKeyring(keyring_path)


def test_keyring_is_created_on_first_use_with_private_modes(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    assert not keyring_path.exists()

    assert keyring.current_version == 1

    assert _mode(keyring_path) == 0o600
    assert _mode(keyring_path.parent) == 0o700
    document = json.loads(keyring_path.read_text())
    assert document["current_version"] == 1
    assert [entry["version"] for entry in document["keys"]] == [1]


def test_keyring_survives_reopening(keyring: LocalKeyring, keyring_path: Path) -> None:
    first = keyring.derive("field")

    assert LocalKeyring(keyring_path).derive("field") == first


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_keyring_readable_by_others_is_refused(
    keyring: LocalKeyring, keyring_path: Path, mode: int
) -> None:
    keyring.current_version  # noqa: B018 - creates the file
    os.chmod(keyring_path, mode)

    with pytest.raises(KeyringPermissionsUnsafe, match="chmod 600"):
        LocalKeyring(keyring_path).current_version  # noqa: B018


@pytest.mark.asyncio
async def test_check_refuses_a_file_whose_mode_was_loosened(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    await keyring.check()
    os.chmod(keyring_path, 0o644)

    with pytest.raises(KeyringPermissionsUnsafe):
        await keyring.check()


@pytest.mark.asyncio
async def test_check_raises_when_the_file_disappears(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    await keyring.check()
    keyring_path.unlink()

    with pytest.raises(KeyringError, match="missing"):
        await keyring.check()


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"format": "something-else/1"}',
        b'{"format": "clinvault-keyring/1", "current_version": 1, "root_secret": "AA==",'
        b' "keys": []}',
    ],
)
def test_malformed_keyring_is_refused(keyring_path: Path, content: bytes) -> None:
    keyring_path.parent.mkdir(parents=True)
    keyring_path.write_bytes(content)
    os.chmod(keyring_path, 0o600)

    with pytest.raises(KeyringError, match="malformed"):
        LocalKeyring(keyring_path).current_version  # noqa: B018


@pytest.mark.asyncio
async def test_wrap_unwrap_round_trip_across_rotation(keyring: LocalKeyring) -> None:
    data_key = os.urandom(32)
    old = await keyring.wrap(data_key)
    assert old.version == 1

    assert await keyring.rotate() == 2

    new = await keyring.wrap(data_key)
    assert keyring.current_version == 2
    assert keyring.versions() == [1, 2]
    assert new.version == 2
    assert await keyring.unwrap(old) == data_key
    assert await keyring.unwrap(new) == data_key


@pytest.mark.asyncio
async def test_rotation_is_persisted_atomically(keyring: LocalKeyring, keyring_path: Path) -> None:
    wrapped = await keyring.wrap(b"k" * 32)
    await keyring.rotate()
    await keyring.rotate()

    reopened = LocalKeyring(keyring_path)
    assert reopened.versions() == [1, 2, 3]
    assert reopened.current_version == 3
    assert await reopened.unwrap(wrapped) == b"k" * 32
    assert _mode(keyring_path) == 0o600
    assert sorted(p.name for p in keyring_path.parent.iterdir()) == [
        ".keyring.json.lock",
        "keyring.json",
    ]


@pytest.mark.asyncio
async def test_tampered_wrapped_key_fails(keyring: LocalKeyring) -> None:
    wrapped = await keyring.wrap(os.urandom(32))
    flipped = bytearray(wrapped.blob)
    flipped[-1] ^= 1

    with pytest.raises(IntegrityError):
        await keyring.unwrap(WrappedKey(wrapped.version, bytes(flipped)))
    with pytest.raises(IntegrityError):
        await keyring.unwrap(WrappedKey(wrapped.version, wrapped.blob[:20]))


@pytest.mark.asyncio
async def test_wrapped_key_is_bound_to_its_version(keyring: LocalKeyring) -> None:
    wrapped = await keyring.wrap(os.urandom(32))
    await keyring.rotate()

    with pytest.raises(IntegrityError):
        await keyring.unwrap(WrappedKey(2, wrapped.blob))
    with pytest.raises(KeyVersionUnknown):
        await keyring.unwrap(WrappedKey(9, wrapped.blob))


@pytest.mark.asyncio
async def test_field_key_rotates_but_blind_index_and_audit_keys_do_not(
    keyring: LocalKeyring,
) -> None:
    field_v1 = keyring.derive("field")
    token_v1 = keyring.derive("token")
    blind = keyring.derive("blind-index")
    audit = keyring.derive("audit")

    await keyring.rotate()

    assert keyring.derive("field") != field_v1
    assert keyring.derive("field", 1) == field_v1
    assert keyring.derive("token") != token_v1
    assert keyring.derive("blind-index") == blind
    assert keyring.derive("blind-index", 1) == blind
    assert keyring.derive("audit") == audit
    assert keyring.derive("audit", 2) == audit


def test_derived_keys_are_distinct_per_purpose(keyring: LocalKeyring) -> None:
    keys = {keyring.derive(p) for p in ("field", "token", "blind-index", "audit")}

    assert len(keys) == 4
    assert all(len(key) == 32 for key in keys)


def test_derive_rejects_an_empty_purpose_and_unknown_versions(keyring: LocalKeyring) -> None:
    with pytest.raises(ValueError, match="purpose"):
        keyring.derive("")
    with pytest.raises(KeyVersionUnknown):
        keyring.derive("field", 5)


@pytest.mark.asyncio
async def test_a_rotation_by_another_process_is_picked_up(keyring_path: Path) -> None:
    server = LocalKeyring(keyring_path)
    command = LocalKeyring(keyring_path)
    assert server.current_version == 1

    await command.rotate()
    wrapped_by_command = await command.wrap(b"d" * 32)

    assert await server.unwrap(wrapped_by_command) == b"d" * 32
    await server.check()
    assert server.current_version == 2


@pytest.mark.asyncio
async def test_a_replaced_keyring_is_refused(keyring: LocalKeyring, keyring_path: Path) -> None:
    keyring.current_version  # noqa: B018
    keyring_path.unlink()
    LocalKeyring(keyring_path).current_version  # noqa: B018 - a different keyring

    with pytest.raises(KeyringError, match="no longer holds"):
        await keyring.check()


def test_factory_opens_a_file_keyring(keyring_path: Path) -> None:
    provider: KeyProvider = open_key_provider(f"file://{keyring_path}")

    assert isinstance(provider, LocalKeyring)
    assert provider.path == keyring_path


@pytest.mark.parametrize("url", ["s3://bucket/keys", "vault://k", "https://kms.example/k"])
def test_factory_names_an_unsupported_scheme(url: str) -> None:
    scheme = url.split(":", 1)[0]

    with pytest.raises(ValueError, match=f"'{scheme}'"):
        open_key_provider(url)


def test_factory_rejects_a_url_without_a_path() -> None:
    with pytest.raises(ValueError, match="no path"):
        open_key_provider("file://")
