"""The committee's figures for a period: what came in, what was decided and how fast against
the promise, what was granted and paid where, the Community Talks, and what the grants led
to (models.impact: further funding won, the leverage, activities still running).

Built from the case database only, and aggregate only: no case reference, no person's or
organisation's name leaves here, and a cell that counts fewer than `FEWEST` cases,
organisations or people (1 to 4; a zero tells nothing about anyone and is shown) is
suppressed (`None`), with the amounts of its row. A total shown beside the rows would give a
single suppressed row back by subtraction, so where a table has exactly one suppressed row,
the smallest other row is suppressed as well (secondary suppression); the totals stay. The
page, the annual report and the CSV all show these figures, so the rule is kept in one place.

The figures are `Table`s of `Row`s, in the order the report shows them: another part of the
system adds its own (`Statistics.tables.append`) without changing these.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from statistics import median

from sqlmodel import Session, col, select

from models.dashboard import promised_before_delay
from models.decisions import GRANTS
from models.impact import impact_figures
from models.municipalities import municipality
from models.tables import (
    Call,
    Case,
    CommunityTalk,
    Decision,
    DecisionStatus,
    Organisation,
    Outcome,
    PaymentOrder,
    PaymentStatus,
    Reporting,
    local_date,
)

FEWEST = 5  # a cell counting fewer cases, organisations or people than this is suppressed
COUNT, KRONOR, DAYS, PERCENT = "count", "kronor", "days", "percent"
HUNDREDTHS = "hundredths"  # a ratio kept exact as a whole number of hundredths (40.67: 4067)
FEWER = "fewer"  # suppressed: it counts fewer than FEWEST (or its row does)
PROTECTING = "protecting"  # suppressed so that no other suppressed cell can be worked out


@dataclass(frozen=True)
class Cell:
    """One figure and how it is written (`kind`); suppressed, its `value` is None and
    `hidden` says why (FEWER or PROTECTING), so that the edges do not call a hidden 12
    "fewer than 5"."""

    value: int | None
    kind: str = COUNT
    hidden: str = ""

    @property
    def suppressed(self) -> bool:
        return self.value is None


def _hidden(cell: Cell, why: str) -> Cell:
    return Cell(None, cell.kind, why)


def _counted_cell(count: int, kind: str = COUNT) -> Cell:
    """A count, suppressed when it is 1 to 4."""
    return Cell(None, kind, FEWER) if 0 < count < FEWEST else Cell(count, kind)


@dataclass(frozen=True)
class Row:
    """One line of a table: `label` names what it counts (a municipality's official name, a
    call's code, an outcome's key), never a case or a person; `key` says which of those it
    is, so that an edge can word it ("outcome", "municipality", "call", "figure")."""

    label: str
    cells: tuple[Cell, ...]
    key: str = "figure"


@dataclass
class Table:
    """A table of the report: its `name` (the edges word its heading and column headings by
    it), the kind of each column (COUNT, KRONOR, ...), its rows, the total row (None where a
    total means nothing), and the column the chart draws (None: no chart)."""

    name: str
    columns: tuple[str, ...]
    rows: list[Row]
    total: Row | None = None
    chart: int | None = 0


@dataclass
class Statistics:
    """The figures of `first`..`last`, table by table."""

    first: date
    last: date
    tables: list[Table] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def calendar_year(year: int) -> tuple[date, date]:
    """The default period: the calendar year."""
    return date(year, 1, 1), date(year, 12, 31)


def statistics(session: Session, first: date, last: date, today: date) -> Statistics:
    """The committee's figures of the period from `first` to `last` (both included, Swedish
    dates); Talks count as held once their day has come (`today`)."""
    if last < first:  # the edges ask for a calendar year: a caller's mistake
        raise ValueError(f"the last day {last} is before the first {first}")
    received = _received(session, first, last)
    decided = _decided(session, first, last)
    return Statistics(
        first,
        last,
        [
            _counted("applications_by_call", [(c.call.code, "call") for c in received]),
            _counted(
                "applications_by_municipality",
                [(_municipality(c), "municipality") for c in received],
            ),
            _outcomes(decided),
            *_promise(session, decided),
            _money_by_municipality(session, decided, first, last),
            _talks(session, first, last, today),
            _impact(session, first, last),
        ],
    )


def _received(session: Session, first: date, last: date) -> list[Case]:
    query = select(Case).where(Case.date_received >= first, Case.date_received <= last)
    return list(session.exec(query.join(Call).join(Organisation)))


def _decided(session: Session, first: date, last: date) -> list[Decision]:
    """Each case's latest signed decision, where it was signed in the period: a decision
    made again (after an annulment, an amendment) counts once, as it now stands."""
    signed = session.exec(
        select(Decision)
        .where(Decision.status == DecisionStatus.signed, col(Decision.decided_at).is_not(None))
        .order_by(col(Decision.decided_at), col(Decision.id))
    ).all()
    latest = {d.case_id: d for d in signed}
    return [d for d in latest.values() if first <= _decided_on(d) <= last]


def _decided_on(decision: Decision) -> date:
    assert decision.decided_at is not None  # only signed decisions come here
    return local_date(decision.decided_at)


def _municipality(case: Case) -> str:
    """The municipality's official name, or as the application gave it if the table lacks it."""
    short = case.organisation.municipality
    found = municipality(short)
    return found.name if found else short


def _counted(name: str, labels: list[tuple[str, str]]) -> Table:
    """A count of cases by one label, largest first, suppressed; the total is all of them."""
    counts = Counter(labels)
    rows = [
        Row(label, (Cell(n),), key)
        for (label, key), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    total = Row("total", (Cell(len(labels)),))
    return Table(name, (COUNT,), suppressed(rows), _shown_total(total))


def _outcomes(decided: list[Decision]) -> Table:
    """The decisions of the period by outcome, every outcome listed (a withdrawal is written
    off: `closed`)."""
    counts = Counter(d.outcome for d in decided)
    rows = [Row(outcome.value, (Cell(counts[outcome]),), "outcome") for outcome in Outcome]
    total = Row("total", (Cell(len(decided)),))
    return Table("outcomes", (COUNT,), suppressed(rows), _shown_total(total))


def _promise(session: Session, decided: list[Decision]) -> tuple[Table, Table]:
    """Days from receipt to decision against the day the acknowledgement promised (FL 11 §;
    where a delay notice moved it, the day promised first): how many were decided by the
    promised day and how many after; then the median days taken and promised, and the
    share on time. A case with no promise (registered before promises were given) counts
    in neither. The share would give a suppressed count back (share × total), so it is
    shown only when both counts are."""
    first_promise = promised_before_delay(session)
    promises = {
        d.case_id: first_promise.get(d.case_id, d.case.expected_decision_on) for d in decided
    }
    promised = [(d, on) for d in decided if (on := promises[d.case_id]) is not None]
    on_time = [d for d, on in promised if _decided_on(d) <= on]
    counts = suppressed(
        [
            Row("on_time", (Cell(len(on_time)),)),
            Row("late", (Cell(len(promised) - len(on_time)),)),
        ]
    )
    enough = len(promised) >= FEWEST
    taken = [(_decided_on(d) - d.case.date_received).days for d, _on in promised]
    allowed = [(on - d.case.date_received).days for d, on in promised]
    share = round(100 * len(on_time) / len(promised)) if promised else None
    protects = any(r.cells[0].suppressed for r in counts) and enough
    figures = [
        Row("median_days", (Cell(round(median(taken)), DAYS) if enough else _few(DAYS),)),
        Row(
            "median_promised_days",
            (Cell(round(median(allowed)), DAYS) if enough else _few(DAYS),),
        ),
        Row(
            "share_on_time",
            (
                Cell(None, PERCENT, PROTECTING)
                if protects
                else Cell(share, PERCENT)
                if enough
                else _few(PERCENT),
            ),
        ),
    ]
    total = _shown_total(Row("total", (Cell(len(promised)),)))
    return Table("promise", (COUNT,), counts, total), Table(
        "decision_days", (DAYS,), figures, None, None
    )


def _few(kind: str) -> Cell:
    return Cell(None, kind, FEWER)


def _money_by_municipality(
    session: Session, decided: list[Decision], first: date, last: date
) -> Table:
    """Granted (the period's grants) and paid (payment orders the bank paid in the period)
    by the municipality of the organisation, with how many cases each row stands on."""
    granted: dict[str, int] = defaultdict(int)
    cases: dict[str, set[int]] = defaultdict(set)
    for d in decided:
        if d.outcome in GRANTS:
            place = _municipality(d.case)
            granted[place] += d.amount or 0
            cases[place].add(d.case_id)
    paid: dict[str, int] = defaultdict(int)
    orders = session.exec(
        select(PaymentOrder).where(
            PaymentOrder.status == PaymentStatus.paid,
            col(PaymentOrder.paid_on) >= first,
            col(PaymentOrder.paid_on) <= last,
        )
    ).all()
    for order in orders:
        place = _municipality(order.case)
        paid[place] += order.amount
        cases[place].add(order.case_id)
    rows = [
        Row(place, (Cell(len(ids)), Cell(granted[place], KRONOR), Cell(paid[place], KRONOR)),
            "municipality")
        for place, ids in sorted(cases.items(), key=lambda item: (-len(item[1]), item[0]))
    ]  # fmt: skip
    every = set().union(*cases.values()) if cases else set()
    total = Row(
        "total",
        (Cell(len(every)), Cell(sum(granted.values()), KRONOR), Cell(sum(paid.values()), KRONOR)),
    )
    return Table(
        "money_by_municipality", (COUNT, KRONOR, KRONOR), suppressed(rows), _shown_total(total), 1
    )


def _talks(session: Session, first: date, last: date, today: date) -> Table:
    """Community Talks held in the period (events, not people: never suppressed) and the
    projects presented at them (organisations: suppressed under five)."""
    held = session.exec(
        select(CommunityTalk).where(
            CommunityTalk.held_on >= first,
            CommunityTalk.held_on <= min(last, today),
        )
    ).all()
    presented = session.exec(
        select(Reporting).where(
            col(Reporting.presented_on) >= first, col(Reporting.presented_on) <= last
        )
    ).all()
    rows = [
        Row("talks_held", (Cell(len(held)),)),
        Row("projects_presented", (_counted_cell(len(presented)),)),
    ]
    return Table("community_talks", (COUNT,), rows, None, None)


def _impact(session: Session, first: date, last: date) -> Table:
    """What the grants decided in the period led to: further funding won per krona granted
    (the leverage), and of the projects followed up a year after their end, how many still
    run. Figures about fewer than five projects are suppressed, amounts and leverage with
    them: a sum over one or two projects is theirs."""
    figures = impact_figures(session, first, last)
    few = 0 < figures.projects < FEWEST
    amounts = [
        Row("projects", (_counted_cell(figures.projects),)),
        Row("granted_kronor", (Cell(figures.granted, KRONOR),)),
        Row("further_funding_won", (Cell(figures.further_funding_won, KRONOR),)),
        Row("leverage", (Cell(int(figures.leverage * 100), HUNDREDTHS),)),
    ]
    if few:
        amounts = [Row(r.label, (_hidden(r.cells[0], FEWER),), r.key) for r in amounts]
    running = [
        Row("followed_up", (_counted_cell(figures.followed_up),)),
        Row("still_running", (_counted_cell(figures.still_running),)),
    ]
    return Table("impact", (COUNT,), amounts + running, None, None)


def _count(row: Row) -> int:
    return row.cells[0].value or 0


def _shown_total(total: Row) -> Row:
    """A table's total, itself suppressed when it counts 1 to 4."""
    if 0 < _count(total) < FEWEST:
        return Row(total.label, tuple(_hidden(c, FEWER) for c in total.cells), total.key)
    return total


def suppressed(rows: list[Row]) -> list[Row]:
    """`rows` with every row whose count (its first cell) is 1 to 4 suppressed, amounts and
    all; and if that leaves exactly one row suppressed beside a total, the smallest other
    row that counts anyone too, so that no suppressed row is the total minus the rows shown.
    A zero is shown: it tells nothing about anyone (and a zero cannot protect a cell)."""
    why = {i: FEWER for i, row in enumerate(rows) if 0 < _count(row) < FEWEST}
    if len(why) == 1:
        others = [i for i, row in enumerate(rows) if i not in why and _count(row) > 0]
        if others:
            why[min(others, key=lambda i: (_count(rows[i]), -i))] = PROTECTING
    return [
        Row(r.label, tuple(_hidden(c, why[i]) for c in r.cells), r.key) if i in why else r
        for i, r in enumerate(rows)
    ]
