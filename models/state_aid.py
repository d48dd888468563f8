"""State aid: a grant to an applicant that carries on economic activity is de minimis aid.

An association that sells goods or services on a market (in the call, an economic
association, ekonomisk förening, unless the case officer finds otherwise) is an undertaking
in EU law. The Region's grant to it would be State aid but for Commission Regulation (EU)
2023/2831: as de minimis aid it is deemed not to meet all the criteria of article 107(1)
TFEU and needs no notification, provided that:

- at most EUR 300 000 of de minimis aid to a single undertaking over any period of three
  years (article 3(2)), counted from the day each aid was granted (the decision), whoever
  granted it (and aid under the other de minimis regulations counts with it, article 5);
  aid that would take the undertaking over the ceiling is not de minimis aid at all, so
  the decision maker cannot sign it;
- before granting, the Region obtains the undertaking's declaration of the other de minimis
  aid it has received in the last three years, and informs it in writing of the amount
  (as gross grant equivalent: a grant is its amount) and of the aid's de minimis character,
  naming the Regulation by its title and its reference in the Official Journal (article 6);
- the Region keeps its records of the aid for ten years (article 6).

Kronor become euro at the configured rate (Rules.sek_per_euro, whose source the letter
names): the Regulation counts in euro and the Region decides in kronor.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from sqlmodel import Session

from models.audit import Actor, record
from models.errors import Refused
from models.rules import Rules
from models.tables import Case, Person
from models.validation import invalid, parse_other_aid
from models.working_days import months_after

CEILING_EURO = 300_000  # article 3(2), per single undertaking over any three years
YEARS = 3


class StateAidRefused(Refused, ValueError):
    """A grant that the de minimis rules do not allow as it stands; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {
        "state_aid.no_declaration": "case {case_reference}: the applicant carries on economic "
        "activity, so the grant is de minimis aid (Regulation (EU) 2023/2831); its declaration "
        "of other de minimis aid received in the last three years is missing",
        "state_aid.over_ceiling": "case {case_reference}: the de minimis aid declared for the "
        "last three years ({declared_euro} euro) and this grant ({grant_euro} euro) come to "
        "{total_euro} euro, over the ceiling of {ceiling_euro} euro for a single undertaking "
        "(Regulation (EU) 2023/2831, article 3(2))",
        "state_aid.nothing": "give whether the applicant carries on economic activity, or its "
        "declaration of other de minimis aid",
    }


def in_euro(kronor: int, rules: Rules) -> int:
    """Kronor in whole euro at the configured rate, rounded half up."""
    rate = Decimal(str(rules.sek_per_euro))
    return int((Decimal(kronor) / rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def counted(aid: list[dict[str, Any]], granted_on: date) -> list[dict[str, Any]]:
    """The declared aid that counts towards the ceiling for aid granted on `granted_on`:
    that granted in the three years before (article 3(2), any period of three years)."""
    first = months_after(granted_on, -12 * YEARS)
    return [a for a in aid if first < date.fromisoformat(a["granted_on"]) <= granted_on]


def de_minimis(case: Case, amount: int, rules: Rules, granted_on: date) -> dict[str, Any] | None:
    """What a grant of `amount` to the case's applicant is as de minimis aid: None when the
    applicant carries on no economic activity. Refused without the declaration, or over
    the ceiling."""
    if not case.economic_activity:
        return None
    if case.other_de_minimis_aid is None:
        raise StateAidRefused("state_aid.no_declaration", case_reference=case.case_reference)
    earlier = counted(case.other_de_minimis_aid, granted_on)
    declared_euro = sum(in_euro(a["amount"], rules) for a in earlier)
    grant_euro = in_euro(amount, rules)
    if declared_euro + grant_euro > CEILING_EURO:
        raise StateAidRefused(
            "state_aid.over_ceiling",
            case_reference=case.case_reference,
            declared_euro=declared_euro,
            grant_euro=grant_euro,
            total_euro=declared_euro + grant_euro,
            ceiling_euro=CEILING_EURO,
        )
    return {
        "amount": amount,
        "euro": grant_euro,
        "sek_per_euro": str(rules.sek_per_euro),
        "declared": earlier,
        "declared_euro": declared_euro,
        "total_euro": declared_euro + grant_euro,
        "ceiling_euro": CEILING_EURO,
    }


def record_state_aid(
    session: Session,
    case: Case,
    officer: Person,
    economic_activity: bool | None = None,
    other_aid: Any = None,
) -> Case:
    """The case officer's record: whether the applicant carries on economic activity (intake
    derived it from the legal form), and the declaration of other de minimis aid it sent
    (a supplement item, when the form export had none): `other_aid` as intake reads it,
    "none" for a declaration of no other aid."""
    if economic_activity is None and other_aid is None:
        raise StateAidRefused("state_aid.nothing")
    old = {
        "economic_activity": case.economic_activity,
        "other_de_minimis_aid": case.other_de_minimis_aid,
    }
    if economic_activity is not None:
        case.economic_activity = economic_activity
    if other_aid is not None:
        try:
            case.other_de_minimis_aid = parse_other_aid(other_aid)
        except Refused as error:
            raise invalid("other_de_minimis_aid", other_aid, error) from None
    declared = case.other_de_minimis_aid is not None
    case.warnings = [w for w in case.warnings if w != "no_de_minimis_declaration"] + (
        ["no_de_minimis_declaration"] if case.economic_activity and not declared else []
    )
    session.add(case)
    record(
        session,
        case,
        Actor.of(officer),
        "state_aid_recorded",
        old=old,
        economic_activity=case.economic_activity,
        other_de_minimis_aid=case.other_de_minimis_aid,
    )
    return case
