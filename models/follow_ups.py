"""The follow-up a year after a funded project ended: what the grant led to afterwards.

On the first working day a year after the project's end (`Case.project_end`) the sweep
sends the grantee a short letter whose e-mail carries its personal link; if no answer has
come `REMINDER_AFTER` working days later, one reminder. Each goes once, however often the
sweep runs. Through the link the grantee answers: the further funding won since the final
report (funder, amount, date), whether the activity continues and who runs it now (the
project itself, or the organisation that took it over), and a short text. The answer may be
corrected until its deadline (`ANSWER_DAYS` working days after the follow-up's day); each
answer and change is in the case's audit trail. The impact register (models.impact) reads
it beside the final report.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from models.audit import SYSTEM, Actor, record
from models.decisions import signed_grant
from models.errors import Refused
from models.letters import FOLLOW_UP, letter_key, order_letter
from models.states import CaseState
from models.tables import Case, FollowUp, Letter, local_date, utcnow
from models.validation import FieldError, invalid, parse_amount, parse_date
from models.working_days import add_working_days, next_working_day

REMINDER_AFTER = 10  # working days after the follow-up, unanswered, its one reminder
ANSWER_DAYS = 30  # working days after the follow-up's day the answer may be given or corrected
LOOK_BACK = 100  # calendar days: more than ANSWER_DAYS working days, holidays and all
# A funded project is followed up whatever became of its case since (closed, most often).
FOLLOWED_STATES = (CaseState.decided, CaseState.reporting, CaseState.closed)
MAX_ROWS = 30
MAX_FUNDER = 200
MAX_NAME = 200
MAX_FOLLOW_UP_TEXT = 2_000  # a short text, not a second report
ROW_FIELDS = ("funder", "amount", "date")
OURSELVES = "ourselves"
OTHER = "other"


class FollowUpRefused(Refused, ValueError):
    """A follow-up answer that cannot be taken now; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "follow_up.not_asked": "case {case_reference} has not been sent its follow-up; it is "
        "answered once it has",
        "follow_up.closed": "the follow-up of {case_reference} could be answered until "
        "{deadline}; the answer stands",
        "follow_up.too_many": "{count} rows of further funding: at most {limit}",
        "follow_up.runner": "must be ourselves or other",
    }


@dataclass(frozen=True)
class FollowUpTyped:
    """The follow-up's form as the grantee typed it, each value a string: `continues` yes or
    no, `runner` ourselves or other, the organisation that took it over, the text, and the
    rows of further funding won (funder, amount, date)."""

    continues: str = ""
    runner: str = ""
    taken_over_by: str = ""
    text: str = ""
    funding: list[dict[str, str]] = field(default_factory=list)


# Reading


def follow_up_of(session: Session, case: Case) -> FollowUp | None:
    return session.exec(select(FollowUp).where(FollowUp.case_id == case.id)).first()


def follow_up_day(case: Case) -> date:
    """The working day a year after the project ended (29 February: 1 March)."""
    end = case.project_end
    try:
        year_after = end.replace(year=end.year + 1)
    except ValueError:
        year_after = date(end.year + 1, 3, 1)
    return next_working_day(year_after)


def answer_deadline(case: Case) -> date:
    """The last day the answer may be given or corrected."""
    return add_working_days(follow_up_day(case), ANSWER_DAYS)


def asked_on(session: Session, case: Case) -> date | None:
    """The day the follow-up was ordered (Swedish date), None if it was not."""
    letter = _letter(session, case, 1)
    return local_date(letter.created_at) if letter else None


# The sweep


def send_follow_ups(session: Session, today: date) -> int:
    """The follow-up to each funded project whose day has come, and one reminder to those
    that have not answered `REMINDER_AFTER` working days after it: each once. A day passed
    by more than the answer's time is not followed up late."""
    # A year after the end is at least 365 days after it; the answer's time is well under
    # LOOK_BACK days more: only the cases within reach are read.
    ended = (today - timedelta(days=365 + LOOK_BACK), today - timedelta(days=365))
    candidates = session.exec(
        select(Case)
        .where(col(Case.state).in_(FOLLOWED_STATES), col(Case.project_end).between(*ended))
        .with_for_update()
    ).all()
    sent = 0
    for case in candidates:
        if not follow_up_day(case) <= today <= answer_deadline(case):
            continue
        if signed_grant(session, case) is None:
            continue
        sent += _follow_up_or_remind(session, case, today)
    return sent


def _follow_up_or_remind(session: Session, case: Case, today: date) -> int:
    """1 if a letter was ordered now: the follow-up, or its one reminder when unanswered."""
    first = _letter(session, case, 1)
    if first is None:
        _order(session, case, 1, "first")
        return 1
    due = add_working_days(local_date(first.created_at), REMINDER_AFTER)
    if today < due or follow_up_of(session, case) or _letter(session, case, 2):
        return 0
    _order(session, case, 2, "reminder")
    return 1


def _order(session: Session, case: Case, number: int, stage: str) -> None:
    data = {
        "stage": stage,
        "project_end": case.project_end.isoformat(),
        "deadline": answer_deadline(case).isoformat(),
    }
    order_letter(session, case, FOLLOW_UP, data, number=number)
    record(session, case, SYSTEM, "follow_up_sent", stage=stage)


def _letter(session: Session, case: Case, number: int) -> Letter | None:
    key = letter_key(case, FOLLOW_UP, number)
    return session.exec(select(Letter).where(Letter.letter_key == key)).first()


# The grantee's answer


def answer_follow_up(session: Session, case: Case, typed: FollowUpTyped, today: date) -> FollowUp:
    """The grantee's answer, or its correction, as typed: refused before the follow-up was
    sent and after its deadline, or naming the first field whose value cannot be taken."""
    if asked_on(session, case) is None:
        raise FollowUpRefused("follow_up.not_asked", case_reference=case.case_reference)
    deadline = answer_deadline(case)
    if today > deadline:
        raise FollowUpRefused(
            "follow_up.closed", case_reference=case.case_reference, deadline=deadline
        )
    values = parsed(typed)
    answer = follow_up_of(session, case)
    actor = Actor.applicant_of(case)
    if answer is None:
        answer = FollowUp(case_id=case.id, **values)
        record(session, case, actor, "follow_up_answered", **values)
    elif _kept(answer) != values:
        for name, value in values.items():
            setattr(answer, name, value)
        answer.changed_at = utcnow()
        record(session, case, actor, "follow_up_changed", **values)
    session.add(answer)
    return answer


def parsed(typed: FollowUpTyped) -> dict[str, Any]:
    """The answer as kept, from what was typed; refused naming the first field whose value
    cannot be taken."""
    continues = typed.continues.strip()
    if continues not in ("yes", "no"):
        raise invalid("continues", typed.continues, FieldError("field.not_yes_no"))
    runner = typed.runner.strip() or OURSELVES
    if continues == "yes" and runner not in (OURSELVES, OTHER):
        raise invalid("runner", typed.runner, FollowUpRefused("follow_up.runner"))
    taken_over_by = " ".join(typed.taken_over_by.split())
    if continues == "yes" and runner == OTHER and not taken_over_by:
        raise invalid("taken_over_by", typed.taken_over_by, FieldError("field.required"))
    _limit("taken_over_by", taken_over_by, MAX_NAME)
    text = typed.text.strip()
    _limit("text", text, MAX_FOLLOW_UP_TEXT)
    return {
        "further_funding": _rows(typed.funding),
        "continues": continues == "yes",
        "taken_over_by": taken_over_by if continues == "yes" and runner == OTHER else "",
        "text": text,
    }


def _limit(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise invalid(name, value, FieldError("field.too_long", length=len(value), limit=limit))


def _rows(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The rows of further funding won: an empty row is left out, a row begun must be
    whole."""
    numbered = [
        (number, row)
        for number, row in enumerate(rows, 1)
        if any(str(row.get(key, "")).strip() for key in ROW_FIELDS)
    ]
    if len(numbered) > MAX_ROWS:
        raise FollowUpRefused("follow_up.too_many", count=len(numbered), limit=MAX_ROWS)
    return [_row(number, row) for number, row in numbered]


def _row(number: int, row: dict[str, str]) -> dict[str, Any]:
    prefix = f"funding_{number}_"
    funder = " ".join(row.get("funder", "").split())
    if not funder:
        raise invalid(prefix + "funder", "", FieldError("field.required"))
    _limit(prefix + "funder", funder, MAX_FUNDER)
    amount_typed = row.get("amount", "").strip()
    if not amount_typed:
        raise invalid(prefix + "amount", "", FieldError("field.required"))
    if amount_typed.startswith(("-", "−")):
        raise invalid(prefix + "amount", amount_typed, FieldError("field.negative"))
    try:
        amount = parse_amount(amount_typed)
    except FieldError as error:
        raise invalid(prefix + "amount", amount_typed, error) from None
    day = row.get("date", "").strip()
    try:
        on = parse_date(day)
    except FieldError as error:
        raise invalid(prefix + "date", day, error) from None
    return {"funder": funder, "amount": amount, "date": on.isoformat()}


def _kept(answer: FollowUp) -> dict[str, Any]:
    return {
        "further_funding": answer.further_funding,
        "continues": answer.continues,
        "taken_over_by": answer.taken_over_by,
        "text": answer.text,
    }
