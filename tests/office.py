"""Using the office as a person does, through Starlette's test client: sign in with the
link the e-mail brings, post forms with their token, read what the pages say."""

import re
from collections.abc import Collection
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient

from grants.settings import load

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/login/link\?token=\S+")


def form_token(client: TestClient) -> str:
    """The session's form token, as any page's forms carry it."""
    page = client.get("/login" if "sid" not in client.cookies else "/tasks")
    return TOKEN.search(page.text).group(1)


def post(client: TestClient, url: str, data: dict | None = None, files=None, **kwargs):
    """A form as a page would post it: with this session's token."""
    return client.post(
        url, data={"csrf_token": form_token(client)} | (data or {}), files=files, **kwargs
    )


def sign_in_mails(outbox: Path) -> set[str]:
    """The names of the sign-in e-mails in the outbox."""
    return {path.name for path in outbox.glob("sign-in-*.eml")}


def sign_in_links(outbox: Path, email: str, skip: Collection[str] = ()) -> list[str]:
    """The sign-in links e-mailed to `email` in the outbox, oldest first; `skip`: names of
    e-mails not to read again (bench/web.py signs in many times into one outbox)."""
    links = []
    for path in sorted(outbox.glob("sign-in-*.eml"), key=lambda p: p.stat().st_mtime_ns):
        if path.name in skip:
            continue
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == email:
            links += LINK.findall(message.get_body().get_content())
    return links


def sign_in(client: TestClient, email: str) -> None:
    """Ask for a link, take it from the outbox, and follow it as the person would."""
    assert post(client, "/login", {"email": email}).status_code == 200
    link = sign_in_links(load().outbox_dir, email)[-1]
    token = link.split("token=", 1)[1].split("&", 1)[0]
    assert client.get(f"/login/link?token={token}").status_code == 200
    response = post(client, "/login/link", {"token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
