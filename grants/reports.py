"""The delegation report to the Cultural Affairs Committee (KL 6 kap. 40 §), as files.

The command line writes them to a folder and the office offers them for download; both
build them here, so the committee gets the same list whichever edge made it.
"""

import csv
import io
from datetime import date
from typing import Any

from grants.anchors import anchor
from grants.render import render_pdf
from grants.settings import Settings

REPORT_COLUMNS = (
    "case_reference",
    "decided_on",
    "organisation",
    "organisation_number",
    "project_title",
    "outcome",
    "amount",
    "paid",
    "decision_maker",
)


def delegation_report_name(first: date, last: date, suffix: str) -> str:
    """The file name the committee's secretary files it under."""
    return f"delegationsbeslut-{first.isoformat()}--{last.isoformat()}{suffix}"


def delegation_report_csv(rows: list[dict[str, Any]]) -> bytes:
    """One line per decision (`models.decisions.delegation_rows`), UTF-8 with a header."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def delegation_report_pdf(
    settings: Settings, first: date, last: date, rows: list[dict[str, Any]]
) -> bytes:
    """The list as PDF/A, with the delegation point, the total granted, and the audit
    trail's head anchored as the report is written (grants.anchors): a copy outside the
    database, in the committee's files."""
    written = anchor(settings)
    return render_pdf(
        "reports/delegation_report.html",
        {
            "authority": settings.config_file.authority,
            "first": first,
            "last": last,
            "rows": rows,
            "total": sum(r["amount"] or 0 for r in rows),
            "paid": sum(r["paid"] or 0 for r in rows),
            "delegation_point": settings.rules.delegation_point,
            "anchor": written.line if written else None,
        },
    )
