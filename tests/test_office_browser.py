"""The office in a real browser (Chromium): people's paths through it, and an axe-core scan
of each kind of page for WCAG 2.1 AA. Pages are also kept as screenshots
(OFFICE_SCREENSHOTS=docs/ keeps the README's)."""

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grants.cli import app as cli
from grants.settings import load
from tests.conftest import SAMPLES
from tests.office import sign_in_links

pytestmark = pytest.mark.browser
OFFICER = "maria.lindqvist@regionorebrolan.example.se"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def grants(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output


def browser_sign_in(page, base_url: str, email: str) -> None:
    """As a person does: ask for a link, open the e-mail's link, press the button."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Din e-postadress").fill(email)
    page.get_by_role("button", name="Skicka en inloggningslänk").click()
    page.get_by_role("heading", name="Titta i din e-post").wait_for()
    page.goto(wait_for_link(email))
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", name="Mina uppgifter").wait_for()


def wait_for_link(email: str, timeout: float = 20) -> str:
    """The newest sign-in link for `email`: the e-mail goes out just after the answer."""
    deadline = time.monotonic() + timeout
    while not (links := sign_in_links(load().outbox_dir, email)):
        assert time.monotonic() < deadline, f"no sign-in link for {email} in the outbox"
        time.sleep(0.1)
    return links[-1]


def accessibility_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in results.response["violations"]
    ]


def keep_screenshot(page, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OFFICE_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def test_each_kind_of_page_meets_wcag_21_aa(live_office, browser_page, tmp_path) -> None:
    base = live_office.state.base_url
    grants("intake", str(SAMPLES / "applications.json"), "--as", OFFICER, "--no-letters")
    page = browser_page
    page.goto(f"{base}/login")
    assert accessibility_violations(page) == []
    browser_sign_in(page, base, OFFICER)
    pages = {"tasks": "/tasks", "cases": "/cases", "case": "/cases/26RS1"}
    for name, path in pages.items():
        page.goto(base + path)
        assert accessibility_violations(page) == [], name
        keep_screenshot(page, f"office-{name}", tmp_path)
    page.get_by_role("button", name="In English").click()
    assert accessibility_violations(page) == []
