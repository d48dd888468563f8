"""Reading in the page (issue 16): a PDF or an image that came in opens in the browser,
anything else is downloaded, and no file can act as a page of the office."""

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from grants.settings import load
from models.db import transaction
from models.tables import Case, Document
from tests.helpers import OFFICER
from tests.test_office_applicant import small_pdf
from tests.test_office_review_decide import person_in_office

KRYDDGARDEN = "SI-2026-0105"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


HOSTILE_PAGE = b"<html><body><script>fetch('/cases').then(r => r.text())</script></body></html>"
HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)


@pytest.mark.parametrize(
    ("media_type", "content", "shown"),
    [
        ("text/html", HOSTILE_PAGE, False),
        ("image/svg+xml", HOSTILE_SVG, False),
        ("application/xhtml+xml", HOSTILE_PAGE, False),
        ("text/plain", b"Hej <script>alert(1)</script>", False),
        ("image/png", png(), True),
        ("application/pdf", small_pdf(), True),
    ],
    ids=["html", "svg", "xhtml", "text", "png", "pdf"],
)
def test_no_file_that_came_in_can_act_as_a_page_of_the_office(
    sample_call, office: TestClient, media_type: str, content: bytes, shown: bool
):
    """Uploads are typed by their content and markup is refused, but a row stored before
    that, or one a later bug lets by, must still not run script in the office's origin:
    only a PDF or an image of an accepted kind is shown inline; every file is sandboxed
    (but a PDF, which Chromium's viewer shows apart from the origin) and never sniffed."""
    with transaction(load().db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == KRYDDGARDEN)).one()
        document = Document(
            case_id=case.id, kind="supplement", filename="svar.html", media_type=media_type,
            content=content, sha256="0" * 64, registered_by="hej@kryddgarden.example.se",
        )  # fmt: skip
        session.add(document)
        session.flush()
        url = f"/cases/{case.case_reference}/documents/{document.id}"
    maria = person_in_office(office, OFFICER)
    served = maria.get(url)
    assert served.status_code == 200 and served.content == content
    assert served.headers["x-content-type-options"] == "nosniff"
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("inline" if shown else "attachment"), disposition
    policy = served.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert ("sandbox" in policy) is (media_type != "application/pdf"), policy
