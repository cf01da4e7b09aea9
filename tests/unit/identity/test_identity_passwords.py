"""Password policy and argon2id hashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from clinvault.errors import PasswordTooWeak
from clinvault.identity import passwords


def test_length_is_counted_exactly_as_typed() -> None:
    passwords.check_policy("a" * 12, min_length=12)
    with pytest.raises(PasswordTooWeak) as caught:
        passwords.check_policy("a" * 11, min_length=12)
    assert "at least 12" in caught.value.detail
    assert caught.value.errors
    assert caught.value.errors[0]["field"] == "password"


def test_surrounding_spaces_count_and_are_never_stripped() -> None:
    passwords.check_policy("   short   ", min_length=11)
    with pytest.raises(PasswordTooWeak):
        passwords.check_policy("  short  ", min_length=12)


def test_overlong_passwords_are_refused() -> None:
    passwords.check_policy("x" * passwords.MAX_LENGTH, min_length=12)
    with pytest.raises(PasswordTooWeak):
        passwords.check_policy("x" * (passwords.MAX_LENGTH + 1), min_length=12)


async def test_hash_is_argon2id_and_verifies_only_the_exact_password() -> None:
    stored = await passwords.hash_password(" Tr0ub4dour&3 long ")
    assert stored.startswith("$argon2id$")
    assert (await passwords.verify_password(stored, " Tr0ub4dour&3 long ")).ok
    assert not (await passwords.verify_password(stored, "Tr0ub4dour&3 long")).ok
    assert (await passwords.verify_password(stored, " Tr0ub4dour&3 long ")).new_hash is None


async def test_an_outdated_hash_is_replaced_on_success() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("the password 1")
    checked = await passwords.verify_password(old, "the password 1")
    assert checked.ok
    assert checked.new_hash is not None
    assert not passwords.HASHER.check_needs_rehash(checked.new_hash)
    failed = await passwords.verify_password(old, "wrong password")
    assert not failed.ok
    assert failed.new_hash is None


async def test_missing_or_corrupt_hashes_fail_without_raising() -> None:
    assert not (await passwords.verify_password(None, "anything at all")).ok
    assert not (await passwords.verify_password("not-a-hash", "anything at all")).ok
    await passwords.dummy_verify("anything at all")
