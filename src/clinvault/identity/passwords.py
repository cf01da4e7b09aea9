"""Password policy and argon2id hashing.

Parameters: argon2id, 32 MiB, 2 passes, 1 lane, about 50 ms per hash on one
core (above OWASP's argon2id minimum of 19 MiB and 2 passes). Hashes made under
older parameters verify and are replaced on the next successful sign-in.
Hashing runs on a pool of its own with one thread per core: a burst of
sign-ins queues there instead of piling onto the cores and the default thread
pool that the rest of the service uses, and the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clinvault.errors import PasswordTooWeak

MAX_LENGTH = 1024

HASHER = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1, hash_len=32, salt_len=16)
T = TypeVar("T")
HASH_WORKERS = max(1, os.cpu_count() or 1)
_HASH_POOL = ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="argon2")


async def _hashing(work: Callable[[], T]) -> T:
    """Run argon2 work on the bounded hashing pool (a queue, never more than the cores)."""
    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, work)


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
    return await _hashing(functools.partial(HASHER.hash, password))


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
    return await _hashing(functools.partial(_verify_sync, stored, password))


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("clinvault timing equalization placeholder")


async def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so unknown emails answer as slowly as known ones."""
    await _hashing(functools.partial(_verify_sync, _dummy_hash(), password))
