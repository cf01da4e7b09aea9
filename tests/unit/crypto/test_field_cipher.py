from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.field_cipher import AesGcmFieldCipher
from clinvault.crypto.fields import FieldCipher
from clinvault.crypto.keyring import LocalKeyring

TOKEN = re.compile(r"v\d+:[A-Za-z0-9_-]+=*")


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring(tmp_path / "keyring.json")


@pytest.fixture
def cipher(keyring: LocalKeyring) -> AesGcmFieldCipher:
    return AesGcmFieldCipher(keyring)


def test_implements_the_field_cipher_port(cipher: AesGcmFieldCipher) -> None:
    port: FieldCipher = cipher

    assert port.decrypt_text(port.encrypt_text("x", context="c"), context="c") == "x"


@pytest.mark.parametrize("text", ["", "Ada Lovelace", "Zoë Ñúñez 山田 🩺", "a" * 10_000])
def test_round_trip(cipher: AesGcmFieldCipher, text: str) -> None:
    token = cipher.encrypt_text(text, context="patients.full_name")

    assert TOKEN.fullmatch(token)
    assert token.startswith("v1:")
    assert cipher.decrypt_text(token, context="patients.full_name") == text


@given(text=st.text(max_size=200))
def test_round_trip_any_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    cipher = AesGcmFieldCipher(LocalKeyring(tmp_path_factory.getbasetemp() / "hypo.json"))

    assert cipher.decrypt_text(cipher.encrypt_text(text, context="c"), context="c") == text


def test_each_encryption_is_randomised(cipher: AesGcmFieldCipher) -> None:
    assert cipher.encrypt_text("same", context="c") != cipher.encrypt_text("same", context="c")


def test_value_copied_into_another_column_fails(cipher: AesGcmFieldCipher) -> None:
    token = cipher.encrypt_text("1984-03-07", context="patients.date_of_birth")

    with pytest.raises(IntegrityError, match="another column"):
        cipher.decrypt_text(token, context="patients.phone")


def test_tampered_value_fails(cipher: AesGcmFieldCipher) -> None:
    token = cipher.encrypt_text("Ada Lovelace", context="c")
    prefix, body = token.split(":")
    position = len(body) // 2
    swapped = "A" if body[position] != "A" else "B"
    tampered = f"{prefix}:{body[:position]}{swapped}{body[position + 1 :]}"

    with pytest.raises(IntegrityError):
        cipher.decrypt_text(tampered, context="c")


@pytest.mark.parametrize(
    "token", ["", "Ada", "v1:", "v0:AAAA", "1:AAAA", "v1:not base64!", "v1:AAAA", "v1:A"]
)
def test_malformed_tokens_fail_cleanly(cipher: AesGcmFieldCipher, token: str) -> None:
    with pytest.raises(IntegrityError):
        cipher.decrypt_text(token, context="c")


def test_empty_context_is_refused(cipher: AesGcmFieldCipher) -> None:
    with pytest.raises(ValueError, match="context"):
        cipher.encrypt_text("x", context="")


@pytest.mark.asyncio
async def test_rotation_writes_new_version_and_reads_old(
    keyring: LocalKeyring, cipher: AesGcmFieldCipher
) -> None:
    old = cipher.encrypt_text("Ada", context="c")

    await keyring.rotate()
    new = cipher.encrypt_text("Ada", context="c")

    assert old.startswith("v1:")
    assert new.startswith("v2:")
    assert cipher.decrypt_text(old, context="c") == "Ada"
    assert cipher.decrypt_text(new, context="c") == "Ada"
    with pytest.raises(IntegrityError):
        cipher.decrypt_text("v2:" + old.split(":")[1], context="c")
