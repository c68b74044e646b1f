"""Password hashing from async code runs on a bounded set of threads of its own.

argon2id works in 19 MiB per hash, and glibc keeps a block that size in the malloc arena of every
thread that ever hashed: hashing on the shared thread pool (up to 40 threads) let a busy API grow
by a block per thread. A burst of sign-ins must use at most `HASH_THREADS` threads."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.security import HASH_THREADS, Passwords
from tests.conftest import make_settings


async def test_a_burst_of_hashes_and_checks_uses_at_most_the_hashing_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = Passwords(make_settings())
    threads: set[int] = set()
    hash_, verify = passwords.hash, passwords.verify

    def noting_hash(password: str) -> str:
        threads.add(threading.get_ident())
        return hash_(password)

    def noting_verify(stored: str | None, password: str) -> bool:
        threads.add(threading.get_ident())
        return verify(stored, password)

    monkeypatch.setattr(passwords, "hash", noting_hash)
    monkeypatch.setattr(passwords, "verify", noting_verify)

    burst = 3 * HASH_THREADS + 2
    hashes = await asyncio.gather(*(passwords.hash_async(f"password {n}") for n in range(burst)))
    checks = await asyncio.gather(
        *(passwords.verify_async(h, f"password {n}") for n, h in enumerate(hashes)),
        passwords.verify_async(hashes[0], "not the password"),
        passwords.verify_async(None, "no account"),
    )

    assert checks == [True] * burst + [False, False]
    assert threading.get_ident() not in threads  # never on the event loop's thread
    assert 1 <= len(threads) <= HASH_THREADS
