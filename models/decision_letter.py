"""What a decision letter, or its draft, says beyond its wording, worked out once for both
languages.

The Swedish and the English decision are worded apart (their sentences are built in a
different order), but what they state is the same: which requirements were assessed and
how, what was decisive, the conditions, who took part, when it was decided. That is
worked out here from the letter's data, so the two wordings cannot come to disagree.
"""

from datetime import UTC, date, datetime
from typing import Any

from models.tables import Decision, Outcome, local_date, local_time
from models.vocabulary import criterion_names, finding_words


def decision_letter(data: dict[str, Any], language: str) -> dict[str, Any]:
    """The decision's content in `language`, from the letter's data (models.decisions)."""
    decided_at = data.get("decided_at")
    due = data.get("final_report_due")
    plan = (data.get("payment") or {}).get("plan") or [  # a letter from before the plan
        {"percent": 100, "after": "acceptance", "amount": data.get("amount")}
    ]
    return {
        "draft": bool(data.get("draft")),
        "granted": data.get("outcome") in (Outcome.granted, Outcome.partly_granted),
        "findings": _findings(data, language),
        "decisive": _trimmed(data.get("decisive")),
        "conditions": [_condition(c) for c in data.get("conditions") or []],
        "decided_on": local_date(datetime.fromisoformat(decided_at)) if decided_at else None,
        "final_report_due": date.fromisoformat(due) if due else None,
        "advice": [text.strip() for text in data.get("other_funding") or [] if text.strip()],
        "payment_plan": plan,
        "instalments": in_words(len(plan), language),
        "decision_maker": _person(data.get("decision_maker"), language),
        "presenting_officer": _person(data.get("presenting_officer"), language),
        "participants": [_participant(p) for p in data.get("participants") or []],
        "fewer_reviews": _fewer_reviews(data.get("fewer_reviews"), language),
    }


NUMBER_WORDS = {
    "sv": ("ingen", "en", "två", "tre", "fyra", "fem", "sex"),
    "en": ("no", "one", "two", "three", "four", "five", "six"),
}


def in_words(number: int, language: str) -> str:
    """A small number in words ("två", "two"), a larger one in digits."""
    words = NUMBER_WORDS[language]
    return words[number] if number < len(words) else str(number)


def _fewer_reviews(fewer: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    """How many reviewed the case instead of the quorum, in words, and why: the case
    officer's decision to go on with fewer reviews (models.reviews.go_on_with_fewer)."""
    if not fewer:
        return None
    return {
        "reviews": in_words(fewer["reviews"], language),
        "one": fewer["reviews"] == 1,
        "quorum": in_words(fewer["quorum"], language),
        "reason": _trimmed(fewer.get("reason")),
    }


def _trimmed(text: str | None) -> str:
    return (text or "").strip()


def _findings(data: dict[str, Any], language: str) -> list[tuple[str, str]]:
    """Each assessed requirement as (heading, reasons): "Nytt lokalt: inte uppfyllt", in the
    guidelines' order; a requirement without written reasons is left out."""
    reasons = data.get("reasons") or {}
    verdicts = data.get("findings") or {}
    words = finding_words(language)
    return [
        (name + (f": {words[verdicts[code]]}" if verdicts.get(code) else ""), reasons[code].strip())
        for code, name in criterion_names(language).items()
        if _trimmed(reasons.get(code))
    ]


def _condition(condition: dict[str, Any]) -> dict[str, str]:
    """A condition: a standard one by its code (worded by the letter), or its own text."""
    return {"code": condition.get("code") or "", "text": _trimmed(condition.get("text"))}


def _person(person: dict[str, Any] | None, language: str) -> str:
    """ "Karin Sjöberg, områdeschef, …": a title after a comma is lower case in Swedish,
    unless it starts with an acronym ("IT-chef" → "IT-chef")."""
    if not person:
        return ""
    title = person.get("title") or ""
    if language == "sv" and title[1:2].lower() == title[1:2]:
        title = title[:1].lower() + title[1:]
    return f"{person['name']}, {title}" if title else person["name"]


def _participant(person: dict[str, Any]) -> str:
    """ "Johan Ek (Coompanion Mälardalen)": who else took part, and for whom."""
    organisation = person.get("organisation")
    return f"{person['name']} ({organisation})" if organisation else person["name"]


def decision_facts(case_reference: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """What a signed decision's PDF carries as data (grants.render embeds it), from the
    letter's data: the integrity check (models.integrity) reads it back and compares it with
    the database. None for a draft, which decides nothing."""
    if data.get("draft") or not data.get("decided_at"):
        return None
    return facts(
        case_reference,
        data.get("version"),
        data.get("outcome"),
        data.get("amount"),
        data.get("signed_by"),
        datetime.fromisoformat(data["decided_at"]),
    )


def signed_facts(case_reference: str | None, decision: Decision) -> dict[str, Any]:
    """The same facts as the database holds them now, to compare with the PDF's."""
    return facts(
        case_reference,
        decision.version,
        decision.outcome.value,
        decision.amount,
        decision.decided_by,
        decision.decided_at,
    )


def facts(
    case_reference: str | None,
    version: int | None,
    outcome: str | None,
    amount: int | None,
    signed_by: str | None,
    signed_at: datetime | None,
) -> dict[str, Any]:
    """The facts of a signed decision in one form (times in UTC, the date in Swedish time)."""
    return {
        "case_reference": case_reference,
        "version": version,
        "outcome": outcome,
        "amount": amount,
        "signed_by": signed_by,
        "signed_at": local_time(signed_at).astimezone(UTC).isoformat() if signed_at else None,
        "decision_date": local_date(signed_at).isoformat() if signed_at else None,
    }
