"""Signing in to the office: e-mailed one-time links, sessions, sign-out, the security log,
form tokens and the headers every page carries. Real HTTP through the test client, a real
database file, the e-mails as they land in the outbox."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from grants.settings import load
from models.db import transaction
from models.sign_in import (
    LINK_REQUESTS_PER_WINDOW,
    OfficeSession,
    SecurityEvent,
    SecurityEventKind,
    SignInLink,
)
from models.tables import local_time, utcnow
from tests.helpers import ACTIVA, OFFICER, database_dump, grants
from tests.office import form_token, post, sign_in, sign_in_links


def security_log() -> list[tuple[str, str, str]]:
    with transaction(load().db_url) as session:
        rows = session.exec(select(SecurityEvent).order_by(SecurityEvent.id))
        return [(e.kind, e.email, e.detail) for e in rows]


def test_every_page_asks_a_signed_out_visitor_to_sign_in(office) -> None:
    for path in ("/", "/tasks", "/cases", "/cases/26RS1"):
        response = office.get(path)
        assert response.url.path == "/login", path
        assert "Logga in" in response.text
    assert office.get("/cases", follow_redirects=False).headers["location"] == (
        "/login?next=/cases"
    )


def test_a_link_from_the_outbox_signs_in_once(office) -> None:
    sign_in(office, OFFICER)
    page = office.get("/tasks")
    assert "Mina uppgifter" in page.text and "Maria Lindqvist" in page.text
    [link] = sign_in_links(load().outbox_dir, OFFICER)
    token = link.split("token=")[1].split("&")[0]
    office.cookies.clear()
    again = post(office, "/login/link", {"token": token})
    assert again.status_code == 400 and "Länken fungerar inte" in again.text
    assert office.get("/tasks").url.path == "/login"
    kinds = [kind for kind, _, _ in security_log()]
    assert kinds == ["link_requested", "sign_in", "sign_in_failed"]
    assert security_log()[-1][2] == "link already used"


def test_opening_a_link_does_not_spend_it(office) -> None:
    """Mail scanners open links: only the button on the link's page signs in."""
    post(office, "/login", {"email": ACTIVA})
    [link] = sign_in_links(load().outbox_dir, ACTIVA)
    path = link.removeprefix("http://127.0.0.1:8000")
    for _ in range(3):
        assert office.get(path).status_code == 200
    token = path.split("token=")[1].split("&")[0]
    assert post(office, "/login/link", {"token": token}, follow_redirects=False).status_code == 303


def test_an_unknown_address_gets_the_same_answer_and_no_mail(office) -> None:
    known = post(office, "/login", {"email": OFFICER})
    unknown = post(office, "/login", {"email": "nobody@example.se"})
    strip = lambda text: text.replace(form_token(office), "")  # noqa: E731
    assert known.status_code == unknown.status_code == 200
    assert strip(known.text) == strip(unknown.text)
    outbox = load().outbox_dir
    assert len(list(outbox.glob("sign-in-*.eml"))) == 1
    assert sign_in_links(outbox, "nobody@example.se") == []
    assert ("link_requested", "nobody@example.se", "") in security_log()


def test_links_are_rate_limited_per_address(office) -> None:
    for _ in range(8):
        assert post(office, "/login", {"email": ACTIVA}).status_code == 200
    assert len(sign_in_links(load().outbox_dir, ACTIVA)) == 5
    assert [k for k, e, _ in security_log() if e == ACTIVA].count("link_refused") == 3


def test_an_expired_link_is_refused_and_logged(office) -> None:
    post(office, "/login", {"email": OFFICER})
    [link] = sign_in_links(load().outbox_dir, OFFICER)
    with transaction(load().db_url) as session:
        for row in session.exec(select(SignInLink)):
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
    token = link.split("token=")[1].split("&")[0]
    assert post(office, "/login/link", {"token": token}).status_code == 400
    assert security_log()[-1][0] == SecurityEventKind.sign_in_failed
    assert security_log()[-1][2] == "link expired"
    assert office.get("/tasks").url.path == "/login"


def test_tokens_are_stored_hashed(office) -> None:
    sign_in(office, OFFICER)
    [link] = sign_in_links(load().outbox_dir, OFFICER)
    token = link.split("token=")[1].split("&")[0]
    session_cookie = office.cookies["grants_session"]
    dump = "\n".join(database_dump(load().home))
    assert token not in dump and session_cookie not in dump


def test_signing_out_ends_the_session_even_for_a_copied_cookie(office) -> None:
    sign_in(office, OFFICER)
    copied = office.cookies["grants_session"]
    response = post(office, "/logout", follow_redirects=True)
    assert "Du är utloggad." in response.text
    office.cookies.set("grants_session", copied)
    assert office.get("/tasks").url.path == "/login"
    assert security_log()[-1][0] == SecurityEventKind.sign_out


def test_a_session_unused_for_too_long_ends(office) -> None:
    sign_in(office, OFFICER)
    with transaction(load().db_url) as session:
        for row in session.exec(select(OfficeSession)):
            row.last_seen_at = utcnow() - timedelta(minutes=31)
            session.add(row)
    assert office.get("/tasks").url.path == "/login"
    assert security_log()[-1][0] == SecurityEventKind.session_expired


def test_the_session_cookie_is_http_only_and_same_site(office) -> None:
    response = office.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_under_https_the_cookie_is_secure(
    grants_home, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from grants.settings import PROJECT_ROOT
    from grants.web.app import create_app

    config = tmp_path / "grants.toml"
    text = (PROJECT_ROOT / "config" / "grants.toml").read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            '# base_url = "https://bidrag.regionorebrolan.example.se"',
            'base_url = "https://bidrag.example.se"',
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("GRANTS_CONFIG", str(config))
    with TestClient(create_app(), base_url="https://bidrag.example.se") as client:
        assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_a_form_without_its_token_changes_nothing(office) -> None:
    sign_in(office, OFFICER)
    before = database_dump(load().home)
    for data in ({}, {"csrf_token": "forged"}):
        response = office.post("/logout", data=data)
        assert response.status_code == 403
        assert "Inget har ändrats" in response.text
    assert office.get("/tasks").url.path == "/tasks"  # still signed in
    assert database_dump(load().home) == before


def test_after_sign_in_only_a_path_on_this_site_is_followed(office) -> None:
    post(office, "/login", {"email": OFFICER, "next": "https://evil.example/"})
    [link] = sign_in_links(load().outbox_dir, OFFICER)
    token = link.split("token=")[1].split("&")[0]
    response = post(
        office, "/login/link", {"token": token, "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/tasks"


def test_pages_carry_security_headers_and_are_not_cached(office) -> None:
    sign_in(office, OFFICER)
    for path in ("/login", "/tasks", "/cases"):
        headers = office.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"


def test_the_language_switch_keeps_the_page_and_the_choice(office) -> None:
    sign_in(office, OFFICER)
    response = post(office, "/language", {"language": "en", "next": "/cases"})
    assert response.url.path == "/cases"
    assert '<html lang="en">' in response.text and "Cases" in response.text
    assert "Ärenden" not in response.text
    assert "Mina uppgifter" not in office.get("/tasks").text
    assert "You are signed out." in post(office, "/logout").text  # what a step says, too


def test_every_office_text_has_its_swedish_translation() -> None:
    from babel.messages.pofile import read_po

    from grants.web.catalog import catalog_path, extracted, missing

    with catalog_path().open("rb") as handle:
        catalog = read_po(handle, locale="sv")
    assert missing(catalog, extracted()) == []


def test_the_command_line_says_when_the_rate_limit_is_why_no_link_was_made(grants_home) -> None:
    """Whoever runs the server is told the real cause: the address asked too often, and
    when it may ask again; an address nobody holds is said to be one."""
    for _ in range(LINK_REQUESTS_PER_WINDOW):
        assert "/login/link?token=" in grants("sign-in-link", OFFICER).text
    refused = grants("sign-in-link", OFFICER, ok=False)
    assert refused.exit_code != 0
    said = re.search(
        rf"'{OFFICER}' has asked for 5 sign-in links within 15 minutes, the most allowed: "
        r"no link was made; ask again at (\d\d:\d\d) \(Swedish time\)",
        refused.text,
    )
    assert said, refused.text
    soon = local_time(utcnow() + timedelta(minutes=15))
    assert said.group(1) in {f"{soon - timedelta(minutes=k):%H:%M}" for k in range(2)}
    unknown = grants("sign-in-link", "nobody@example.se", ok=False)
    assert "'nobody@example.se' is not a registered, active person" in unknown.text
