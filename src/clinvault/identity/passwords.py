"""Password policy and argon2id hashing.

Parameters: argon2id, 32 MiB, 2 passes, 1 lane, about 50 ms per hash on one
core. Hashes made under older parameters verify and are replaced on the next
successful sign-in. Hashing runs in a worker thread so the event loop keeps
serving other requests.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clinvault.errors import PasswordTooWeak

MAX_LENGTH = 1024

HASHER = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1, hash_len=32, salt_len=16)


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    new_hash: str | None = None


def check_policy(password: str, *, min_length: int) -> None:
    """Refuse a password that is too short or too long, counted exactly as typed."""
    if len(password) < min_length or len(password) > MAX_LENGTH:
        raise PasswordTooWeak(
            f"Choose a password of at least {min_length} characters (at most {MAX_LENGTH}); "
            "a sentence of several unrelated words is long and easy to remember.",
            errors=[
                {
                    "field": "password",
                    "in": "body",
                    "message": f"must be {min_length} to {MAX_LENGTH} characters long",
                    "type": "password_too_weak",
                }
            ],
        )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


def _verify_sync(stored: str, password: str) -> Verification:
    try:
        HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verification(ok=False)
    if HASHER.check_needs_rehash(stored):
        return Verification(ok=True, new_hash=HASHER.hash(password))
    return Verification(ok=True)


async def verify_password(stored: str | None, password: str) -> Verification:
    """Check `password`; when the stored hash is outdated, also return a fresh one.

    An account without a password (OIDC only, or not yet activated) costs the
    same time as a wrong password.
    """
    if stored is None:
        await dummy_verify(password)
        return Verification(ok=False)
    return await asyncio.to_thread(_verify_sync, stored, password)


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("clinvault timing equalization placeholder")


async def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so unknown emails answer as slowly as known ones."""
    await asyncio.to_thread(_verify_sync, _dummy_hash(), password)
