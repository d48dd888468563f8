"""A small OpenID provider for tests: real HTTP on 127.0.0.1, real RS256 signatures.

It does what a region's identity provider does for the authorization code flow with PKCE,
and checks what a real one checks (client, redirect address, one-time code, secret, code
verifier), so a test that passes through it has spoken OpenID Connect, not our own idea of
it. A test chooses who signs in at the provider (`email`) and may make the next ID token
wrong on purpose (`claims`, `signing_key`) or have the provider refuse (`refuse`).
"""

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

KEY_ID = "provider-2026"


def signing_key(kid: str = KEY_ID) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


class Provider:
    """One client (`client_id`, `client_secret`, `redirect_uri`) and one signing key."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = signing_key()
        self.issuer = ""  # known once the server listens
        self.requests: list[str] = []  # paths asked for, in order
        self._codes: dict[str, dict[str, str]] = {}
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.metadata),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    def reset(self) -> None:
        """Back to an honest provider with nobody signed in."""
        self.email = ""
        self.claims: dict[str, Any] = {}  # put into the next ID token; None drops a claim
        self.signing_key = self.key
        self.refuse = ""  # an OAuth error code to answer the authorization request with
        self.requests.clear()

    async def metadata(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        """The person is taken to have signed in as `email`: straight back with a code."""
        self.requests.append(request.url.path)
        asked = request.query_params
        if (
            asked.get("client_id") != self.client_id
            or asked.get("redirect_uri") != self.redirect_uri
            or asked.get("response_type") != "code"
            or "openid" not in asked.get("scope", "").split()
            or asked.get("code_challenge_method") != "S256"
            or not asked.get("code_challenge")
            or not asked.get("nonce")
            or not asked.get("state")
        ):
            return JSONResponse({"error": "invalid_request"}, 400)
        if self.refuse:
            answer = {"error": self.refuse, "state": asked["state"]}
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = {
                "challenge": asked["code_challenge"],
                "nonce": asked["nonce"],
                "email": self.email,
            }
            answer = {"code": code, "state": asked["state"]}
        return RedirectResponse(f"{self.redirect_uri}?{urlencode(answer)}", 302)

    async def token(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        form = await request.form()
        grant = self._codes.pop(str(form.get("code")), None)  # a code works once
        if not self._client_authenticated(request) or grant is None:
            return JSONResponse({"error": "invalid_client" if grant else "invalid_grant"}, 400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (
            form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != self.redirect_uri
            or challenge.rstrip(b"=").decode() != grant["challenge"]
        ):
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": hashlib.sha256(grant["email"].encode()).hexdigest()[:16],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "email": grant["email"],
            "email_verified": True,
        } | self.claims
        header = {"alg": "RS256", "kid": self.signing_key.kid}
        id_token = jwt.encode(
            header, {k: v for k, v in claims.items() if v is not None}, self.signing_key
        )
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _client_authenticated(self, request: Request) -> bool:
        """client_secret_basic, as the provider's metadata offers."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        given = base64.b64decode(encoded).decode()
        return secrets.compare_digest(given, f"{self.client_id}:{self.client_secret}")


@contextmanager
def running(provider: Provider) -> Iterator[Provider]:
    """Serve `provider` under uvicorn in a thread on a port of 127.0.0.1 bound beforehand
    (no race for a free port), until the block ends."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    provider.issuer = f"http://127.0.0.1:{listening.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(provider.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listening]}, name="oidc-provider", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test's OpenID provider did not start"
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()
