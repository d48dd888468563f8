"""Signing in through the region's identity provider (OpenID Connect).

A small OpenID provider runs inside the test on 127.0.0.1 (`tests/oidc_provider.py`): the
office discovers it, the browser's journey goes office → provider → office over real HTTP,
and the ID tokens carry real RS256 signatures. Nothing of ours is replaced.
"""

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grants.settings import PROJECT_ROOT, load
from models.db import transaction
from models.sign_in import OfficeSession, SecurityEvent
from tests.helpers import DECISION_MAKER, OFFICER
from tests.office import post, sign_in
from tests.oidc_provider import KEY_ID, Provider, running, signing_key

CLIENT_ID = "grants-office"
CLIENT_SECRET = "s3cret-from-the-environment"
OFFICE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running(Provider(CLIENT_ID, CLIENT_SECRET, f"{OFFICE}/login/oidc/callback")) as served:
        yield served


def configure_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, metadata_url: str) -> None:
    """The configuration file with `[auth.oidc]` added. The file's secret is wrong: the one in
    GRANTS_OIDC_CLIENT_SECRET must win, or the provider refuses the office."""
    config = tmp_path / "grants.toml"
    config.write_text(
        (PROJECT_ROOT / "config" / "grants.toml").read_text()
        + "\n[auth.oidc]\n"
        + 'name = "Region Örebro län"\n'
        + f'server_metadata_url = "{metadata_url}"\n'
        + f'client_id = "{CLIENT_ID}"\n'
        + 'client_secret = "not-this-one"\n'
    )
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    monkeypatch.setenv("GRANTS_OIDC_CLIENT_SECRET", CLIENT_SECRET)


@pytest.fixture
def oidc_office(
    grants_home: Path, tmp_path: Path, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The office signing staff in through the test's provider."""
    from grants.web.app import create_app

    provider.reset()
    configure_provider(tmp_path, monkeypatch, f"{provider.issuer}/.well-known/openid-configuration")
    with TestClient(create_app(), base_url=OFFICE) as client:
        yield client
    client.app.state.office.follow_up.wait_idle(60)


def through_provider(
    client: TestClient, provider: Provider, email: str, next: str = "/tasks"
) -> httpx.Response:
    """Press "sign in with the region's account", be `email` at the provider, come back:
    the office's answer to the provider's redirect."""
    provider.email = email
    start = client.get("/login/oidc", params={"next": next}, follow_redirects=False)
    assert start.status_code == 302, start.text
    assert start.headers["location"].startswith(f"{provider.issuer}/authorize?")
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    assert back.headers["location"].startswith(f"{OFFICE}/login/oidc/callback?")
    return client.get(back.headers["location"], follow_redirects=False)


def security_log() -> list[tuple[str, str, str, str]]:
    with transaction(load().db_url) as session:
        rows = session.exec(select(SecurityEvent).order_by(SecurityEvent.id))
        return [(e.kind, e.email, e.method, e.detail) for e in rows]


def sessions() -> list[OfficeSession]:
    with transaction(load().db_url) as session:
        return list(session.exec(select(OfficeSession)))


def assert_refused(client: TestClient, answer: httpx.Response, status: int) -> str:
    """Refused: the failure page, no session, one failed OIDC sign-in logged; its detail."""
    assert answer.status_code == status
    assert "Inloggningen misslyckades" in answer.text and 'role="alert"' in answer.text
    assert sessions() == []
    assert client.get("/tasks", follow_redirects=False).headers["location"].startswith("/login")
    [(kind, _, method, detail)] = security_log()
    assert (kind, method) == ("sign_in_failed", "oidc")
    return detail


def test_staff_member_signs_in_through_the_regions_provider(oidc_office, provider) -> None:
    answer = through_provider(oidc_office, provider, "Maria.Lindqvist@RegionOrebrolan.example.se")
    assert answer.status_code == 303 and answer.headers["location"] == "/tasks"
    page = oidc_office.get("/tasks")
    assert "Mina uppgifter" in page.text and "Maria Lindqvist" in page.text
    [started] = sessions()
    assert started.method == "oidc" and started.ended_at is None
    assert security_log() == [("sign_in", OFFICER, "oidc", "")]


def test_the_request_to_the_provider_uses_pkce_state_and_nonce(oidc_office, provider) -> None:
    start = oidc_office.get("/login/oidc", follow_redirects=False)
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["scope"] == ["openid email profile"]
    assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
    assert asked["redirect_uri"] == [f"{OFFICE}/login/oidc/callback"]
    assert len(asked["state"][0]) >= 20 and len(asked["nonce"][0]) >= 20
    assert asked["code_challenge"][0]


def test_the_page_asked_for_is_kept_through_the_round_trip(oidc_office, provider) -> None:
    answer = through_provider(oidc_office, provider, DECISION_MAKER, next="/cases?state=draft")
    assert answer.headers["location"] == "/cases?state=draft"


def test_only_a_page_of_the_office_is_a_target(oidc_office, provider) -> None:
    answer = through_provider(oidc_office, provider, OFFICER, next="https://evil.example/x")
    assert answer.status_code == 303 and answer.headers["location"] == "/tasks"


def test_the_provider_is_discovered_when_someone_signs_in_and_only_once(
    oidc_office, provider
) -> None:
    assert oidc_office.get("/login").status_code == 200
    assert provider.requests == []  # nothing fetched at import, start or on the sign-in page
    through_provider(oidc_office, provider, OFFICER)
    assert post(oidc_office, "/logout", follow_redirects=False).status_code == 303
    through_provider(oidc_office, provider, DECISION_MAKER)
    assert provider.requests.count("/.well-known/openid-configuration") == 1
    assert provider.requests.count("/jwks") == 1
    assert provider.requests.count("/token") == 2


def test_an_address_that_is_no_person_of_the_office_is_refused(oidc_office, provider) -> None:
    answer = through_provider(oidc_office, provider, "someone.else@regionorebrolan.example.se")
    assert "someone.else@regionorebrolan.example.se" in answer.text
    assert assert_refused(oidc_office, answer, 403) == "not a registered person"
    assert security_log()[0][1] == "someone.else@regionorebrolan.example.se"


def test_an_unverified_address_is_refused(oidc_office, provider) -> None:
    provider.claims = {"email_verified": False}
    answer = through_provider(oidc_office, provider, OFFICER)
    assert assert_refused(oidc_office, answer, 403) == "email not verified by the provider"
    assert security_log()[0][1] == OFFICER  # an attempt on her address, for the region to see


def test_an_id_token_without_an_email_is_refused(oidc_office, provider) -> None:
    provider.claims = {"email": None}
    answer = through_provider(oidc_office, provider, OFFICER)
    assert assert_refused(oidc_office, answer, 400) == "no email claim"


@pytest.mark.parametrize(
    ("claims", "key_id", "why"),
    [
        pytest.param({}, KEY_ID, "bad_signature", id="another key under the provider's key id"),
        pytest.param({}, "someone-elses-key", "No key for kid", id="a key never published"),
        pytest.param({"nonce": "from-another-sign-in"}, None, "'nonce'", id="another nonce"),
        pytest.param({"iat": 1_700_000_000, "exp": 1_700_000_300}, None, "expired", id="expired"),
        pytest.param({"aud": "another-client"}, None, "'aud'", id="for another client"),
        pytest.param({"iss": "http://127.0.0.1:1"}, None, "'iss'", id="from another issuer"),
    ],
)
def test_an_id_token_that_does_not_hold_is_refused(
    oidc_office, provider, claims: dict, key_id: str | None, why: str
) -> None:
    provider.claims = claims
    if key_id:
        provider.signing_key = signing_key(key_id)
    answer = through_provider(oidc_office, provider, OFFICER)
    assert why in assert_refused(oidc_office, answer, 400)


def test_a_callback_with_another_state_is_refused(oidc_office, provider) -> None:
    provider.email = OFFICER
    start = oidc_office.get("/login/oidc", follow_redirects=False)
    back = httpx.get(start.headers["location"]).headers["location"]
    query = parse_qs(urlsplit(back).query)
    forged = f"{OFFICE}/login/oidc/callback?code={query['code'][0]}&state=not-the-state"
    answer = oidc_office.get(forged, follow_redirects=False)
    assert "MismatchingStateError" in assert_refused(oidc_office, answer, 400)


def test_a_callback_is_good_once(oidc_office, provider) -> None:
    provider.email = OFFICER
    start = oidc_office.get("/login/oidc", follow_redirects=False)
    back = httpx.get(start.headers["location"]).headers["location"]
    assert oidc_office.get(back, follow_redirects=False).status_code == 303
    again = oidc_office.get(back, follow_redirects=False)
    assert again.status_code == 400 and "Inloggningen misslyckades" in again.text
    assert [kind for kind, *_ in security_log()] == ["sign_in", "sign_in_failed"]
    assert len(sessions()) == 1  # the replay neither signs in again nor ends the session
    assert "Maria Lindqvist" in oidc_office.get("/tasks").text


def test_a_callback_in_another_browser_is_refused(oidc_office, provider) -> None:
    """The state lives in the session of the browser that set out: a link to a callback
    sent to someone else (login CSRF) signs no one in."""
    provider.email = OFFICER
    start = oidc_office.get("/login/oidc", follow_redirects=False)
    back = httpx.get(start.headers["location"]).headers["location"]
    oidc_office.cookies.clear()
    assert_refused(oidc_office, oidc_office.get(back, follow_redirects=False), 400)


def test_the_provider_refusing_is_a_refused_sign_in(oidc_office, provider) -> None:
    provider.refuse = "access_denied"
    answer = through_provider(oidc_office, provider, OFFICER)
    assert "access_denied" in assert_refused(oidc_office, answer, 400)


def test_a_provider_that_does_not_answer_is_a_refused_sign_in(
    grants_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grants.web.app import create_app

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        metadata_url = (
            f"http://127.0.0.1:{closed.getsockname()[1]}/.well-known/openid-configuration"
        )
    configure_provider(tmp_path, monkeypatch, metadata_url)
    with TestClient(create_app(), base_url=OFFICE) as client:
        answer = client.get("/login/oidc", follow_redirects=False)
        assert "ConnectError" in assert_refused(client, answer, 400)


def test_the_sign_in_link_still_works_beside_the_provider(oidc_office) -> None:
    login = oidc_office.get("/login?next=/cases")
    assert 'href="/login/oidc?next=/cases"' in login.text or "/login/oidc?next=%2Fcases" in (
        login.text
    )
    sign_in(oidc_office, DECISION_MAKER)
    assert "Karin Sjöberg" in oidc_office.get("/tasks").text
    assert [s.method for s in sessions()] == ["email_link"]


def test_without_a_provider_there_is_no_provider_sign_in(office) -> None:
    assert "/login/oidc" not in office.get("/login").text
    assert office.get("/login/oidc", follow_redirects=False).status_code == 404
    assert office.get("/login/oidc/callback", follow_redirects=False).status_code == 404
