"""One behaviour for every KeyProvider: the local keyring and AWS KMS (moto's KMS API)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.contracts.conftest import MotoServer

from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.keyring import LocalKeyring
from clinvault.crypto.kms import KmsKeyProvider
from clinvault.crypto.ports import KeyProvider, WrappedKey

CONTEXT = {"organization": "0193a0c2-aaaa-7bbb-8ccc-000000000001", "object": "orgs/x/doc"}


@dataclass
class Provider:
    keys: KeyProvider
    # A second instance over the same configuration, as a restarted process would build.
    reopen: Callable[[], KeyProvider]
    binds_context: bool


def _local(tmp_path: Path) -> Provider:
    path = tmp_path / "keys" / "keyring.json"
    return Provider(LocalKeyring(path), lambda: LocalKeyring(path), binds_context=False)


def _kms(request: pytest.FixtureRequest, tmp_path: Path) -> Provider:
    server: MotoServer = request.getfixturevalue("moto_server")
    client = server.client("kms")
    key_id = client.create_key(Description="clinvault contract")["KeyMetadata"]["KeyId"]
    path = tmp_path / "keys" / "kms-keyring.json"
    return Provider(
        KmsKeyProvider(client, key_id, path),
        lambda: KmsKeyProvider(client, key_id, path),
        binds_context=True,
    )


@pytest.fixture(params=["local", "kms"])
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> Provider:
    return _kms(request, tmp_path) if request.param == "kms" else _local(tmp_path)


@pytest.fixture
def keys(provider: Provider) -> KeyProvider:
    return provider.keys


@pytest.mark.asyncio
async def test_a_new_data_key_unwraps_to_itself_under_its_context(keys: KeyProvider) -> None:
    data_key, wrapped = await keys.new_data_key(CONTEXT)
    other, _ = await keys.new_data_key(CONTEXT)

    assert len(data_key) == 32
    assert data_key != other
    assert data_key not in wrapped.blob
    assert wrapped.version == keys.current_version
    assert await keys.unwrap(wrapped, CONTEXT) == data_key


@pytest.mark.asyncio
async def test_wrap_and_unwrap_round_trip(keys: KeyProvider) -> None:
    data_key = os.urandom(32)

    wrapped = await keys.wrap(data_key, CONTEXT)

    assert data_key not in wrapped.blob
    assert await keys.unwrap(wrapped, CONTEXT) == data_key


@pytest.mark.asyncio
async def test_a_tampered_wrapped_key_fails_closed(keys: KeyProvider) -> None:
    wrapped = await keys.wrap(os.urandom(32), CONTEXT)
    flipped = bytearray(wrapped.blob)
    flipped[-1] ^= 1

    with pytest.raises(IntegrityError):
        await keys.unwrap(WrappedKey(wrapped.version, bytes(flipped)), CONTEXT)


@pytest.mark.asyncio
async def test_another_objects_context_fails_closed_where_bound(provider: Provider) -> None:
    keys = provider.keys
    data_key, wrapped = await keys.new_data_key(CONTEXT)

    for wrong in (
        {**CONTEXT, "object": "orgs/x/other"},
        {**CONTEXT, "organization": "0193a0c2-aaaa-7bbb-8ccc-000000000002"},
        None,
    ):
        if provider.binds_context:
            with pytest.raises(IntegrityError):
                await keys.unwrap(wrapped, wrong)
        else:
            # The local keyring binds no context: its wrapped keys predate contexts.
            assert await keys.unwrap(wrapped, wrong) == data_key


def test_derived_keys_are_per_purpose_and_stable_across_restarts(provider: Provider) -> None:
    keys = provider.keys
    derived = {p: keys.derive(p) for p in ("field", "token", "blind-index", "audit")}

    assert all(len(key) == 32 for key in derived.values())
    assert len(set(derived.values())) == 4
    reopened = provider.reopen()
    assert {p: reopened.derive(p) for p in derived} == derived
    with pytest.raises(ValueError, match="purpose"):
        keys.derive("")


@pytest.mark.asyncio
async def test_rotation_adds_a_version_and_keeps_the_old_one_readable(provider: Provider) -> None:
    keys = provider.keys
    old_wrapped = await keys.wrap(b"d" * 32, CONTEXT)
    old_field, old_blind, old_audit = (
        keys.derive("field"),
        keys.derive("blind-index"),
        keys.derive("audit"),
    )

    version = await keys.rotate()

    assert version == old_wrapped.version + 1 == keys.current_version
    assert keys.versions() == [old_wrapped.version, version]
    assert keys.derive("field") != old_field
    assert keys.derive("field", old_wrapped.version) == old_field
    assert (keys.derive("blind-index"), keys.derive("audit")) == (old_blind, old_audit)
    assert await keys.unwrap(old_wrapped, CONTEXT) == b"d" * 32
    assert (await keys.wrap(b"e" * 32, CONTEXT)).version == version
    # Another process learns of the rotation when it meets the new version.
    reopened = provider.reopen()
    assert reopened.current_version == version
    assert reopened.derive("field", version) == keys.derive("field")


@pytest.mark.asyncio
async def test_check_passes(keys: KeyProvider) -> None:
    await keys.check()
