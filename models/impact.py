"""The impact register: what each funded project led to, and the figures the committee reads.

Each funded project (a case whose signed decision grants money) is one row: what was
granted and paid, the further funding it won (the final report's rows marked won, and the
rows of the follow-up a year after the project ended; a row given in both, the same funder,
amount and date, counted once), whether the activity continues and who runs it now (from
the follow-up; unknown without one), and whether it presented at a Community Talk.

The figures are over the grants decided in a period, of one call or all: granted, further
funding won, the leverage (further funding won per krona granted), projects, activities
still running of those followed up, and projects presented at a Talk; per call, and one row
per year for the figures over the years.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from models.decisions import GRANTS
from models.follow_ups import OURSELVES
from models.payments import paid_on_cases
from models.tables import (
    Call,
    Case,
    Decision,
    DecisionStatus,
    FinalReport,
    FollowUp,
    Reporting,
    TalkAttendance,
    local_date,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ImpactRow:
    """One funded project in the register. `continues` is None while not followed up;
    `taken_over_by` is "ourselves" (OURSELVES) when the project runs it itself."""

    case_reference: str
    project_title: str
    organisation: str
    call_id: int
    decided_on: date
    granted: int
    paid: int
    further_funding_won: int
    continues: bool | None
    taken_over_by: str
    presented: bool


@dataclass(frozen=True)
class ImpactFigures:
    """The figures over the grants decided from `first` to `last` (of `call_id`, or all):
    kronor granted and further funding won, the leverage (won per krona granted, two
    decimals), projects, followed up and still running among them, presented at a Talk."""

    first: date
    last: date
    call_id: int | None
    granted: int
    further_funding_won: int
    leverage: Decimal
    projects: int
    followed_up: int
    still_running: int
    presented: int


def impact_register(
    session: Session, first: date, last: date, call_id: int | None = None
) -> list[ImpactRow]:
    """The funded projects decided from `first` to `last` (Swedish dates), in the order
    they were decided."""
    grants = _grants(session, first, last, call_id)
    ids = [decision.case_id for decision in grants]
    paid = paid_on_cases(session, ids)
    reports = _by_case(session, FinalReport, ids)
    follow_ups = _by_case(session, FollowUp, ids)
    presented = _presented(session, ids)
    rows = []
    for decision in grants:
        case: Case = decision.case
        follow_up = follow_ups.get(case.id)
        rows.append(
            ImpactRow(
                case_reference=case.case_reference,
                project_title=case.project_title,
                organisation=case.organisation.name,
                call_id=case.call_id,
                decided_on=local_date(decision.decided_at),
                granted=decision.amount or 0,
                paid=paid.get(case.id, 0),
                further_funding_won=sum(
                    row["amount"] for row in won_rows(reports.get(case.id), follow_up)
                ),
                continues=follow_up.continues if follow_up else None,
                taken_over_by=_runner(follow_up),
                presented=case.id in presented,
            )
        )
    return rows


def impact_figures(
    session: Session, first: date, last: date, call_id: int | None = None
) -> ImpactFigures:
    """The figures over the grants decided from `first` to `last`, of one call or all."""
    return figures_of(impact_register(session, first, last, call_id), first, last, call_id)


def figures_of(
    rows: list[ImpactRow], first: date, last: date, call_id: int | None = None
) -> ImpactFigures:
    """The figures of register rows already read."""
    granted = sum(row.granted for row in rows)
    won = sum(row.further_funding_won for row in rows)
    return ImpactFigures(
        first=first,
        last=last,
        call_id=call_id,
        granted=granted,
        further_funding_won=won,
        leverage=leverage(won, granted),
        projects=len(rows),
        followed_up=sum(1 for row in rows if row.continues is not None),
        still_running=sum(1 for row in rows if row.continues),
        presented=sum(1 for row in rows if row.presented),
    )


def figures_per_call(session: Session, first: date, last: date) -> list[tuple[Call, ImpactFigures]]:
    """The figures of each call that granted money in the period."""
    return calls_of(session, impact_register(session, first, last), first, last)


def figures_per_year(session: Session, call_id: int | None = None) -> list[ImpactFigures]:
    """One row a calendar year in which grants were decided, the earliest first: the
    figures over the years."""
    return years_of(impact_register(session, date.min, date.max, call_id), call_id)


def years_of(rows: list[ImpactRow], call_id: int | None = None) -> list[ImpactFigures]:
    """The figures of register rows already read, one row a year they were decided in."""
    years = sorted({row.decided_on.year for row in rows})
    return [
        figures_of(
            [row for row in rows if row.decided_on.year == year],
            date(year, 1, 1),
            date(year, 12, 31),
            call_id,
        )
        for year in years
    ]


def calls_of(
    session: Session, rows: list[ImpactRow], first: date, last: date
) -> list[tuple[Call, ImpactFigures]]:
    """The figures of each call among register rows already read."""
    ids = {row.call_id for row in rows}
    calls = session.exec(select(Call).where(col(Call.id).in_(ids)).order_by(Call.code))
    return [
        (call, figures_of([r for r in rows if r.call_id == call.id], first, last, call.id))
        for call in calls
    ]


def leverage(won: int, granted: int) -> Decimal:
    """Further funding won per krona granted, rounded to two decimals (0 with no grant)."""
    if not granted:
        return Decimal("0.00")
    return (Decimal(won) / Decimal(granted)).quantize(CENT, rounding=ROUND_HALF_UP)


def won_rows(report: FinalReport | None, follow_up: FollowUp | None) -> list[dict[str, Any]]:
    """The further funding won, from the report as last submitted (its rows marked won) and
    the follow-up; a row given in both (same funder, amount and date) counted once."""
    rows = [row for row in _submitted_funding(report) if row.get("status") == "won"]
    rows += follow_up.further_funding if follow_up else []
    seen: set[tuple[str, int, str]] = set()
    kept = []
    for row in rows:
        key = (" ".join(row["funder"].split()).casefold(), int(row["amount"]), row["date"])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _submitted_funding(report: FinalReport | None) -> list[dict[str, Any]]:
    """The further funding of the report as the grantee last sent it (a draft saved since is
    not reported yet)."""
    if report is None:
        return []
    sent = [entry for entry in report.rounds if entry["kind"] == "submitted"]
    return sent[-1].get("answers", {}).get("further_funding", []) if sent else []


def _grants(session: Session, first: date, last: date, call_id: int | None) -> list[Decision]:
    """Each case's signed decision in force, if it grants money and was decided in the
    period (the latest signed version: an amended grant counts once)."""
    query = select(Decision).where(Decision.status == DecisionStatus.signed)
    latest: dict[int, Decision] = {}
    for decision in session.exec(query.order_by(col(Decision.version))):
        latest[decision.case_id] = decision
    return sorted(
        (
            decision
            for decision in latest.values()
            if decision.outcome in GRANTS
            and decision.decided_at is not None
            and first <= local_date(decision.decided_at) <= last
            and (call_id is None or decision.case.call_id == call_id)
        ),
        key=lambda decision: (decision.decided_at, decision.case_id),
    )


def _by_case(session: Session, table: type[Any], ids: Iterable[int]) -> dict[int, Any]:
    query = select(table).where(col(table.case_id).in_(list(ids)))
    return {row.case_id: row for row in session.exec(query)}


def _presented(session: Session, ids: list[int]) -> set[int]:
    """The cases that presented at a Talk: by the attendance registered, or the
    presentation recorded on the case."""
    attended = select(TalkAttendance.case_id).where(
        col(TalkAttendance.case_id).in_(ids), TalkAttendance.presented_by != ""
    )
    recorded = select(Reporting.case_id).where(
        col(Reporting.case_id).in_(ids), col(Reporting.presented_on).is_not(None)
    )
    return set(session.exec(attended)) | set(session.exec(recorded))


def _runner(follow_up: FollowUp | None) -> str:
    """Who runs the activity now: the organisation that took it over, "ourselves", or ""
    when it does not continue or was not followed up."""
    if follow_up is None or not follow_up.continues:
        return ""
    return follow_up.taken_over_by or OURSELVES


def period_of(year: int | None) -> tuple[date, date]:
    """The decisions of `year`, or of every year when None."""
    return (date(year, 1, 1), date(year, 12, 31)) if year else (date.min, date.max)


CSV_COLUMNS = (
    "case_reference",
    "project_title",
    "organisation",
    "decided_on",
    "granted",
    "paid",
    "further_funding_won",
    "continues",
    "taken_over_by",
    "presented_at_talk",
)


def register_csv(rows: list[ImpactRow]) -> bytes:
    """The register as CSV, UTF-8 with a header: continues `yes`, `no`, or empty while
    not followed up; amounts in whole kronor."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.case_reference,
                row.project_title,
                row.organisation,
                row.decided_on.isoformat(),
                row.granted,
                row.paid,
                row.further_funding_won,
                "" if row.continues is None else ("yes" if row.continues else "no"),
                row.taken_over_by,
                "yes" if row.presented else "no",
            )
        )
    return text.getvalue().encode("utf-8")
