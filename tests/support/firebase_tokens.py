"""Firebase-shaped ID tokens signed with a local key, and the certificate endpoint that serves it.

Firebase ID tokens are RS256 JWTs whose `kid` names one of the X.509 certificates Google publishes
at `firebase_admin._token_gen.ID_TOKEN_CERT_URI`. Tests mint tokens with `SIGNER` and serve its
certificate there with the `responses` library, so firebase-admin runs its real checks (signature,
expiry, audience, issuer) without reaching Google. `OTHER_SIGNER` is a key Google never published:
its tokens name a published `kid` but carry a signature that certificate does not match.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from firebase_admin import _token_gen

PROJECT_ID = "homeplans-test"


def cert_uri() -> str:
    """Where firebase-admin fetches the ID-token certificates (read when called, not imported)."""
    return str(_token_gen.ID_TOKEN_CERT_URI)


@dataclass(frozen=True)
class Signer:
    """An RSA key, its `kid` and a self-signed certificate of its public key."""

    kid: str
    key: rsa.RSAPrivateKey = field(repr=False)
    cert_pem: str = field(repr=False)

    @classmethod
    def generate(cls, common_name: str) -> Signer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(
            kid=uuid.uuid4().hex,
            key=key,
            cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        )


SIGNER = Signer.generate("securetoken.system.gserviceaccount.com")
OTHER_SIGNER = Signer.generate("attacker.example")


def claims(
    uid: str,
    *,
    project: str = PROJECT_ID,
    email: str | None = None,
    email_verified: bool = False,
    phone_number: str | None = None,
    name: str | None = None,
    sign_in_provider: str = "google.com",
    issued_at: int | None = None,
    lifetime: int = 3600,
    **overrides: Any,
) -> dict[str, Any]:
    """The claims of a Firebase ID token for `uid`; `overrides` replace or add any claim."""
    now = int(time.time()) if issued_at is None else issued_at
    identities: dict[str, list[str]] = {}
    if email:
        identities["email"] = [email]
    if phone_number:
        identities["phone"] = [phone_number]
    if sign_in_provider not in ("password", "phone", "anonymous"):
        identities[sign_in_provider] = [f"{uid}-at-{sign_in_provider}"]
    body: dict[str, Any] = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "auth_time": now,
        "user_id": uid,
        "sub": uid,
        "iat": now,
        "exp": now + lifetime,
        "firebase": {"identities": identities, "sign_in_provider": sign_in_provider},
    }
    if name is not None:
        body["name"] = name
    if email is not None:
        body["email"] = email
        body["email_verified"] = email_verified
    if phone_number is not None:
        body["phone_number"] = phone_number
    body.update(overrides)
    return body


def sign(payload: dict[str, Any], *, signer: Signer = SIGNER, kid: str | None = None) -> str:
    """`payload` as an RS256 JWT by `signer`, its header naming `kid` (the signer's by default)."""
    return jwt.encode(
        payload, signer.key, algorithm="RS256", headers={"kid": kid or signer.kid, "typ": "JWT"}
    )


def id_token(uid: str, **kwargs: Any) -> str:
    """A valid Firebase ID token for `uid` (see `claims` for the options), signed by `SIGNER`."""
    return sign(claims(uid, **kwargs))


def unsigned(payload: dict[str, Any], *, kid: str = SIGNER.kid) -> str:
    """An `alg: none` JWT: a header and payload with an empty signature."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(payload)}."


@contextmanager
def google_certificates(*signers: Signer, status: int = 200) -> Iterator[responses.RequestsMock]:
    """Serve the certificates of `signers` (default: `SIGNER`) where firebase-admin fetches them.

    Any other `requests` call fails (`responses` raises ConnectionError for unregistered URLs), so
    nothing reaches the network. `status` other than 200 plays Google's endpoint being down.
    """
    published = signers or (SIGNER,)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if status == 200:
            mock.get(cert_uri(), json={s.kid: s.cert_pem for s in published})
        else:
            mock.get(cert_uri(), status=status, body="unavailable")
        yield mock
