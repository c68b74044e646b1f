"""Password hashing (argon2id), access tokens (JWT) and opaque refresh tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import Settings

# RFC 9068 `typ`: lets us refuse any other kind of JWT as an access token.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a token type, not a secret)
# Verified access tokens remembered by one process (a few hundred bytes each).
VERIFIED_TOKENS_KEPT = 4096
JWT_ALGORITHM = "HS256"  # pinned: the decoder accepts nothing else (no "none", no RS/HS confusion)


# argon2id works in `argon2_memory_kib` (19 MiB) of memory per hash. glibc keeps a freed block of
# that size in the malloc arena of the thread that used it (its mmap threshold grows to fit the
# first one), so every thread that ever hashes holds about 19 MiB from then on. On the shared
# thread pool (anyio's: up to 40 threads, up to 8 arenas per core) that was the API's growth under
# traffic: 157 -> 250 MB after 800 mixed requests, each arena one argon2 block. Hashes run on this
# many threads of their own instead, which bounds those blocks (and the CPU that hashing takes at
# once; a hash is CPU-bound, so more threads than cores buy nothing).
HASH_THREADS = max(1, min(4, os.cpu_count() or 1))


class Passwords:
    """argon2id hashing with parameters from settings (OWASP minimum or above).

    `hash`/`verify` block for tens of milliseconds; from async code call `hash_async`/
    `verify_async`, which run them on the hashing threads (`HASH_THREADS`)."""

    _pool: ThreadPoolExecutor | None = None  # one per process, made on first use

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when the account does not exist, so an unknown email costs the same
        # time as a wrong password and timing does not reveal who is registered.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and (
                stored_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    async def hash_async(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self.hashing_threads(), self.hash, password
        )

    async def verify_async(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self.hashing_threads(), self.verify, stored_hash, password
        )

    @classmethod
    def hashing_threads(cls) -> ThreadPoolExecutor:
        """The process's hashing threads, at most `HASH_THREADS` (shared by every instance)."""
        if cls._pool is None:
            cls._pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
        return cls._pool


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    # A long-lived answer (a live stream) ends when the token does.
    expires_at: datetime


class InvalidToken(Exception):
    pass


class AccessTokens:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.jwt_secret.get_secret_value()
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._verified: dict[str, AccessClaims] = {}  # token -> its claims, oldest first

    def issue(self, *, user_id: uuid.UUID, session_id: uuid.UUID, role: str) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self._key, algorithm=JWT_ALGORITHM, headers={"typ": ACCESS_TOKEN_TYPE}
        )

    def decode(self, token: str) -> AccessClaims:
        """The claims of a valid access token. A token already verified is answered from memory
        (the same string: same signature, same claims) as long as it has not expired: checking
        an HS256 signature and its claims again was about a tenth of an authenticated GET's CPU.
        What a token's claims cannot say (the session revoked, the account disabled) is checked
        on every request by the caller, never remembered here."""
        known = self._verified.get(token)
        if known is not None:
            if datetime.now(UTC) < known.expires_at:
                return known
            del self._verified[token]
        claims = self._decode(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != ACCESS_TOKEN_TYPE:
                raise InvalidToken("not an access token")
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[JWT_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "sid"]},
            )
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                role=str(claims.get("role", "")),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc


def new_refresh_token() -> str:
    """An opaque, unguessable refresh token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
