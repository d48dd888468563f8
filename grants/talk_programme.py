"""A Community Talk's programme as files: the PDF the organiser brings to the Talk and the
CSV for its own lists. The command line writes them and the office offers them for download;
both build them here, so the organiser gets the same programme whichever edge made it."""

import csv
import io

from grants.render import render_pdf
from grants.settings import Settings
from models.tables import CommunityTalk
from models.talk_answers import ProgrammeItem

PROGRAMME_COLUMNS = (
    "organisation",
    "project_title",
    "presenters",
    "attendees",
    "came",
    "presented_by",
)


def programme_name(talk: CommunityTalk, suffix: str) -> str:
    """The file name: the Talk's day, so that the programmes of a year sort by it."""
    return f"samhallssamtal-{talk.held_on.isoformat()}-program{suffix}"


def programme_csv(items: list[ProgrammeItem]) -> bytes:
    """One line per project, UTF-8 with a header; a count not known yet is empty."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(PROGRAMME_COLUMNS)
    for item in items:
        writer.writerow(
            ["" if getattr(item, c) is None else getattr(item, c) for c in PROGRAMME_COLUMNS]
        )
    return text.getvalue().encode("utf-8")


def programme_pdf(settings: Settings, talk: CommunityTalk, items: list[ProgrammeItem]) -> bytes:
    """The programme in Swedish as PDF/A: the Talk's theme, day, time, venue and street
    address, then each project with who presents and how many come."""
    return render_pdf(
        "reports/talk_programme.html",
        {
            "authority": settings.config_file.authority,
            "talk": talk,
            "items": items,
            "answered": [item for item in items if item.attendees is not None],
            "expected": sum(item.attendees or 0 for item in items),
        },
    )
