"""Bearer tokens from an external OIDC issuer, verified against its JWKS over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from sqlalchemy import update
from tests.conftest import make_settings
from tests.factories import auth_headers, create_org, create_user, problem

from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.identity.oidc import JWKS_CACHE
from clinvault.identity.principal import Role
from clinvault.main import create_app
from clinvault.models.identity import User

ISSUER = "https://idp.example.org/realms/care"
AUDIENCE = "clinvault-api"


class Jwks:
    """A JWKS endpoint on 127.0.0.1 whose key set a test can change."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self, key: rsa.RSAPrivateKey, kid: str) -> None:
        public: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.keys.append({**public, "kid": kid, "alg": "RS256", "use": "sig"})


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
async def oidc_client(
    tmp_path: Path, settings: Settings, container: Container, jwks: Jwks
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database and keys, trusting the test issuer."""
    oidc_settings = make_settings(
        tmp_path,
        settings.database_url,
        keys_url=settings.keys_url,
        workflows_enabled=False,
        oidc_issuers=[{"issuer": ISSUER, "jwks_url": jwks.url, "audience": AUDIENCE}],
    )
    application: FastAPI = create_app(oidc_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    JWKS_CACHE.clear()


def id_token(key: rsa.RSAPrivateKey, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "idp-user-1",
        "email": "Ada.Lovelace@Example.org",
        "email_verified": True,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def profile(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/auth/profile", headers=auth_headers(token))


async def test_a_valid_external_token_maps_to_the_account(
    oidc_client: httpx.AsyncClient, container: Container, jwks: Jwks
) -> None:
    key = new_key()
    jwks.publish(key, "k1")
    org = await create_org(container)
    user = await create_user(
        container, org, roles=[Role.DOCTOR], email="ada.lovelace@example.org", password=None
    )
    response = await profile(oidc_client, id_token(key))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(user.id)
    assert response.json()["roles"] == ["doctor"]
    await profile(oidc_client, id_token(key))
    assert jwks.hits == 1


async def test_untrustworthy_external_tokens_are_refused(
    oidc_client: httpx.AsyncClient, container: Container, jwks: Jwks
) -> None:
    key = new_key()
    jwks.publish(key, "k1")
    org = await create_org(container)
    await create_user(container, org, roles=[Role.NURSE], email="ada.lovelace@example.org")
    past = int(time.time()) - 3600
    refused = {
        "wrong key": id_token(new_key()),
        "wrong audience": id_token(key, aud="another-app"),
        "unknown email": id_token(key, email="stranger@example.org"),
        "unverified email": id_token(key, email_verified=False),
        "unknown issuer": id_token(key, iss="https://elsewhere.example.org"),
    }
    for reason, token in refused.items():
        body = problem(await profile(oidc_client, token), 401, "token_invalid")
        assert body["detail"], reason
    expired = id_token(key, iat=past, exp=past + 60)
    problem(await profile(oidc_client, expired), 401, "token_expired")


async def test_inactive_accounts_are_refused(
    oidc_client: httpx.AsyncClient, container: Container, jwks: Jwks
) -> None:
    key = new_key()
    jwks.publish(key, "k1")
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE], email="ada.lovelace@example.org")
    async with container.db.unit_of_work() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
    problem(await profile(oidc_client, id_token(key)), 401, "token_invalid")


async def test_a_rotated_issuer_key_is_fetched_once(
    oidc_client: httpx.AsyncClient,
    container: Container,
    jwks: Jwks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(JWKS_CACHE, "_cooldown", 0.0)
    first, second = new_key(), new_key()
    jwks.publish(first, "k1")
    org = await create_org(container)
    await create_user(container, org, roles=[Role.CLERK], email="ada.lovelace@example.org")
    assert (await profile(oidc_client, id_token(first))).status_code == 200
    jwks.publish(second, "k2")
    assert (await profile(oidc_client, id_token(second, kid="k2"))).status_code == 200
    assert jwks.hits == 2
    problem(await profile(oidc_client, id_token(second, kid="k3")), 401, "token_invalid")
    assert jwks.hits == 3
