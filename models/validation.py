"""Validation of one application as it arrives from a form export.

Every field is checked and every fault is reported, each naming the field, the value
and why, so a case officer can correct the whole record in one go. Nothing here
touches the database: intake stores only what passed.
"""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from email_validator import EmailNotValidError, validate_email

from models import identifiers
from models.errors import MESSAGES, Refused, sentence
from models.tables import Call, Language
from models.text import quoted
from models.working_days import months_after

MUNICIPALITIES = (
    "Askersund",
    "Degerfors",
    "Hallsberg",
    "Hällefors",
    "Karlskoga",
    "Kumla",
    "Laxå",
    "Lekeberg",
    "Lindesberg",
    "Ljusnarsberg",
    "Nora",
    "Örebro",
)

# Legal forms of civil society, with the first digit their organisation numbers start with.
LEGAL_FORMS = {
    "ideell förening": "8",
    "stiftelse": "8",
    "registrerat trossamfund": "8",
    "ekonomisk förening": "7",
}
LEGAL_FORM_ALIASES = {
    "non-profit association": "ideell förening",
    "foundation": "stiftelse",
    "religious community": "registrerat trossamfund",
    "trossamfund": "registrerat trossamfund",
    "economic association": "ekonomisk förening",
    "cooperative": "ekonomisk förening",
}
LANGUAGES = {
    "sv": "sv",
    "svenska": "sv",
    "swedish": "sv",
    "en": "en",
    "engelska": "en",
    "english": "en",
}

# What intake lets through but a case officer must follow up, by code (stored on the case).
WARNINGS = {
    "no_organisation_number": "no organisation number yet: needed before payment",
    "no_payment_account": "no bankgiro or plusgiro: needed before payment",
    "no_partners": "no partners named (basic requirement 4: anchored with partners)",
    "no_de_minimis_declaration": "economic activity and no declaration of other de minimis "
    "aid: needed before a grant is decided",
}
# Legal forms that carry on economic activity: a grant to them is de minimis aid unless
# the case officer finds otherwise (models.state_aid).
ECONOMIC_FORMS = ("ekonomisk förening",)
YES = ("ja", "yes", "true", "1", "x")
NO = ("nej", "no", "false", "0", "")
NONE_RECEIVED = ("inga", "inget", "none", "nej", "no", "0")

REQUIRED_TEXTS = ("project_title", "societal_challenge", "description", "target_group")
OPTIONAL_TEXTS = ("innovation", "long_term_effects")
MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_DIGITS = 12  # kronor or hours: more is a typing error, and would not fit the database
FIRST_YEAR, LAST_YEAR = 1900, 2199  # dates outside are typing errors (and overflow date sums)


class FieldError(Refused, ValueError):
    """One field's fault: a code and its parameters, for each edge to word for the person
    who typed it. The field and its value go with it in a `Fault`."""

    messages: ClassVar[dict[str, str]] = {
        "field.not_text": "must be text",
        "field.required": "is required",
        "field.too_long": "is {length} characters long; at most {limit} are allowed",
        "field.not_kronor": "must be a whole number of kronor",
        "field.too_many_digits": "has more than {limit} digits",
        "field.negative": "must not be negative",
        "field.ore": "must be whole kronor, without öre",
        "field.not_an_amount": "must be a whole number of kronor, such as 50000 or 50 000 kr",
        "field.not_hours": "must be a whole number of hours",
        "field.not_a_date": "is not a date written YYYY-MM-DD",
        "field.year_out_of_range": "lies outside the years {first}–{last}",
        "field.not_an_email": "is not a valid e-mail address ({why})",
        "field.not_a_municipality": "is not a municipality in Örebro county; the call is open "
        "to organisations in {municipalities}",
        "field.not_a_legal_form": "is not a legal form of civil society; accepted: {legal_forms}",
        "field.not_a_language": "must be sv (svenska) or en (English)",
        "field.not_partners": 'must be a list of {{"name", "support"}} or "Name: support; …"',
        "field.partner_without_name": "every partner needs a name",
        "field.not_yes_no": "must be yes or no (ja or nej)",
        "field.not_other_aid": 'must be "none", a list of {{"grantor", "amount", "granted_on"}} '
        'or "Grantor: amount: YYYY-MM-DD; …"',
        "field.aid_item": "item {number}: {field} {reason}",
        "field.unreadable": "cannot be read ({kind})",
        "field.received_in_the_future": "lies in the future (today is {today})",
        "field.call_closed": "the call is closed for applications in {months}",
        "field.number_of_another_form": "does not belong to a {legal_form} (its numbers start "
        "with {digit})",
        "field.number_required": "is required for a {legal_form}",
        "field.amount_out_of_range": "must be between {minimum} and {maximum} kronor in this call",
        "field.co_financing": "co-financing is {cash} kr in cash plus {hours} h × {rate} kr = "
        "{total} kr, less than the {amount} kr applied for; it must be at least equal",
        "field.end_before_start": "is before project_start ({start})",
        "field.project_too_long": "the project may run at most {months} months, to {last} at "
        "the latest",
        "field.start_before_received": "is before the application was received ({received}); "
        "funds cannot pay for work already done",
    }


class InvalidField(Refused, ValueError):
    """A value a person typed into a form or a command (not a form export's record) that is
    refused: the field, the value and why (a `FieldError`'s or `IdentifierError`'s code and
    parameters, which each edge words in its own way)."""

    messages: ClassVar[dict[str, str]] = {"field.invalid": "{field} = {value!r}: {reason}"}


def invalid(field_name: str, value: Any, error: Refused) -> InvalidField:
    """`field_name` = `value` refused for `error` (its code and parameters kept)."""
    return InvalidField(
        "field.invalid",
        field=field_name,
        value=value,
        reason=str(error),
        reason_code=error.code,
        reason_params=error.params,
    )


@dataclass(frozen=True)
class Fault:
    """What is wrong with one field of a record: the field, the value as it came, and why
    (a refusal's code and its parameters, plain values that survive a flow's report)."""

    field: str
    value: Any
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return sentence(MESSAGES[self.code], self.params)

    def __str__(self) -> str:
        shown = "(missing)" if self.value is None else quoted(self.value)
        return f"{self.field} = {shown}: {self.reason}"


@dataclass
class ValidApplication:
    """An application whose every field passed; values are normalised."""

    submission_id: str | None
    date_received: date
    language: Language
    organisation: dict[str, Any]
    project: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class InvalidApplication(ValueError):
    def __init__(self, faults: list[Fault]) -> None:
        super().__init__("; ".join(str(f) for f in faults))
        self.faults = faults


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise FieldError("field.not_text")
    return str(value).strip()


def _required(value: Any, limit: int = MAX_TEXT) -> str:
    text = _text(value)
    if not text:
        raise FieldError("field.required")
    if len(text) > limit:
        raise FieldError("field.too_long", length=len(text), limit=limit)
    return text


def _id(value: Any) -> str:
    """An identifier from the form (its submission id): short text."""
    text = _text(value)
    if len(text) > MAX_TITLE:
        raise FieldError("field.too_long", length=len(text), limit=MAX_TITLE)
    return text


def _optional(value: Any) -> str:
    text = _text(value)
    if len(text) > MAX_TEXT:
        raise FieldError("field.too_long", length=len(text), limit=MAX_TEXT)
    return text


def parse_amount(value: Any) -> int:
    """Whole kronor from 50000, "50 000", "50 000 kr", "50000,00" or "SEK 50,000"."""
    if isinstance(value, bool):
        raise FieldError("field.not_kronor")
    if isinstance(value, int | float) and not -(10**MAX_DIGITS) < value < 10**MAX_DIGITS:
        raise FieldError("field.too_many_digits", limit=MAX_DIGITS)
    if isinstance(value, int | float) and value < 0:
        raise FieldError("field.negative")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise FieldError("field.ore")
    text = re.sub(r"(?i)\s|kr\.?|sek|:-", "", _text(value).replace("\u00a0", ""))
    if not text:
        raise FieldError("field.required")
    text = re.sub(r"[,.]00?$", "", text)
    if re.fullmatch(r"[0-9]{1,3}([,.][0-9]{3})+", text):
        text = re.sub(r"[,.]", "", text)
    if not re.fullmatch(r"[0-9]+", text):  # ASCII digits: not "²", "①" or "٣"
        raise FieldError("field.not_an_amount")
    if len(text) > MAX_DIGITS:
        raise FieldError("field.too_many_digits", limit=MAX_DIGITS)
    return int(text)


def parse_hours(value: Any) -> int:
    if value is None or _text(value) == "":
        return 0
    try:
        return parse_amount(value)
    except FieldError:
        raise FieldError("field.not_hours") from None


def parse_date(value: Any) -> date:
    """An ISO date; a form's timestamp (2026-11-02T14:30:00+01:00) gives its date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        raise FieldError("field.required")
    try:
        timestamp = "T" in text or " " in text
        day = datetime.fromisoformat(text).date() if timestamp else date.fromisoformat(text)
    except ValueError:
        raise FieldError("field.not_a_date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise FieldError("field.year_out_of_range", first=FIRST_YEAR, last=LAST_YEAR)
    return day


def parse_email(value: Any) -> str:
    """The address as it goes on the envelope: the domain in its ASCII (punycode) form, which
    every server reads; a local part outside ASCII is kept, and sent with SMTPUTF8. What
    cannot go on an envelope at all (quoted or bracketed parts, line breaks, bidi controls)
    is refused here rather than failing at delivery."""
    text = _text(value)
    if not text:
        raise FieldError("field.required")
    try:
        address = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise FieldError("field.not_an_email", why=str(error)) from None
    return f"{address.local_part}@{address.ascii_domain}"


def parse_municipality(value: Any) -> str:
    text = re.sub(r"(?i)\s+kommun$", "", _required(value))
    for name in MUNICIPALITIES:
        if name.casefold() == text.casefold():
            return name
    raise FieldError("field.not_a_municipality", municipalities=MUNICIPALITIES)


def parse_legal_form(value: Any) -> str:
    text = _required(value).lower()
    text = LEGAL_FORM_ALIASES.get(text, text)
    if text not in LEGAL_FORMS:
        raise FieldError("field.not_a_legal_form", legal_forms=list(LEGAL_FORMS))
    return text


def parse_language(value: Any) -> Language:
    text = _text(value).lower() or "sv"
    if text not in LANGUAGES:
        raise FieldError("field.not_a_language")
    return Language(LANGUAGES[text])


def parse_partners(value: Any) -> list[dict[str, str]]:
    """Partners as a list of {name, support}, or text "Name: support; Name: support"."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = [p for p in (part.strip() for part in value.split(";")) if p]
        items = [
            dict(zip(("name", "support"), map(str.strip, p.split(":", 1)), strict=False))
            for p in items
        ]
    elif isinstance(value, list):
        items = value
    else:
        raise FieldError("field.not_partners")
    partners = []
    for item in items:
        if not isinstance(item, dict) or not _text(item.get("name")):
            raise FieldError("field.partner_without_name")
        partners.append({"name": _text(item["name"]), "support": _text(item.get("support"))})
    return partners


def parse_yes_no(value: Any) -> bool | None:
    """Yes or no, as a form or a spreadsheet writes it; None when not given."""
    if value is None or isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if text == "":
        return None
    if text in YES or text in NO:
        return text in YES
    raise FieldError("field.not_yes_no")


def parse_other_aid(value: Any) -> list[dict[str, Any]] | None:
    """The applicant's declaration of other de minimis aid in the last three years: None
    when not given, [] for "none", else each aid as {grantor, amount (kronor), granted_on}
    from a list of objects or text "Grantor: amount: YYYY-MM-DD; …" (or one a line)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().casefold() in NONE_RECEIVED:
        return []
    if isinstance(value, str):
        value = [
            dict(zip(("grantor", "amount", "granted_on"), part.rsplit(":", 2), strict=False))
            for part in (p.strip() for p in re.split(r"[;\n]", value))
            if part
        ]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise FieldError("field.not_other_aid")
    return [_aid(number, item) for number, item in enumerate(value, start=1)]


def _aid(number: int, item: dict[str, Any]) -> dict[str, Any]:
    """One declared aid, each part checked; a fault names the item and the part."""
    parts = (
        ("grantor", lambda v: _required(v, MAX_TITLE)),
        ("amount", parse_amount),
        ("granted_on", parse_date),
    )
    aid: dict[str, Any] = {}
    for name, parse in parts:
        try:
            aid[name] = parse(item.get(name))
        except FieldError as error:
            raise FieldError(
                "field.aid_item", number=number, field=name, reason=str(error)
            ) from None
    aid["granted_on"] = aid["granted_on"].isoformat()
    return aid


def month_names(months: list[int]) -> str:
    return " and ".join(calendar.month_name[m] for m in sorted(months))


class _Checker:
    """Collects faults field by field so that one record reports all of them."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.faults: list[Fault] = []

    def take(self, name: str, parse: Any) -> Any:
        value = self.record.get(name)
        try:
            return parse(value)
        except (FieldError, identifiers.IdentifierError) as error:
            self.faults.append(Fault(name, value, error.code, error.params))
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as error:
            # a value no rule foresaw: this record is refused, the others go on
            self.fault(name, FieldError("field.unreadable", kind=type(error).__name__))
        return None

    def fault(self, name: str, error: FieldError) -> None:
        self.faults.append(Fault(name, self.record.get(name), error.code, error.params))


# An organisation's contact and payment facts, each as intake checks it: the case officer's
# corrections (models.case_facts) are checked the same way.
CONTACT_FACTS: dict[str, Callable[[Any], Any]] = {
    "organisation_number": lambda v: identifiers.organisation_number(v) if _text(v) else None,
    "email": parse_email,
    "contact_person": lambda v: _required(v, MAX_TITLE),
    "phone": lambda v: _optional(v) or None,
    "postal_address": lambda v: _optional(v) or None,
    "postcode": lambda v: _optional(v) or None,
    "city": lambda v: _optional(v) or None,
    "bankgiro": lambda v: identifiers.bankgiro(v) if _text(v) else None,
    "plusgiro": lambda v: identifiers.plusgiro(v) if _text(v) else None,
}


def submission_id_of(record: dict[str, Any]) -> str | None:
    """The record's submission id as validate_application reads it; None when it has none
    or it cannot be read (validation then says why)."""
    try:
        return _id(record.get("submission_id")) or None
    except FieldError:
        return None


def validate_application(record: dict[str, Any], call: Call, today: date) -> ValidApplication:
    """Check one raw record against the call's rules; raise InvalidApplication with all faults."""
    check = _Checker(record)
    warnings: list[str] = []

    submission_id = check.take("submission_id", _id)
    received = check.take("submitted_at", lambda v: today if _text(v) == "" else parse_date(v))
    language = check.take("language", parse_language)
    legal_form = check.take("legal_form", parse_legal_form)
    number = check.take("organisation_number", CONTACT_FACTS["organisation_number"])
    organisation = {
        "name": check.take("organisation_name", lambda v: _required(v, MAX_TITLE)),
        "organisation_number": number,
        "legal_form": legal_form,
        "municipality": check.take("municipality", parse_municipality),
    }
    organisation |= {
        name: check.take(name, parse)
        for name, parse in CONTACT_FACTS.items()
        if name != "organisation_number"
    }
    project: dict[str, Any] = {
        name: check.take(
            name, lambda v, n=name: _required(v, MAX_TITLE if n == "project_title" else MAX_TEXT)
        )
        for name in REQUIRED_TEXTS
    }
    project |= {name: check.take(name, _optional) for name in OPTIONAL_TEXTS}
    project |= {
        "requested_amount": check.take("requested_amount", parse_amount),
        "co_financing_cash": check.take(
            "co_financing_cash", lambda v: 0 if _text(v) == "" else parse_amount(v)
        ),
        "co_financing_hours": check.take("co_financing_hours", parse_hours),
        "project_start": check.take("project_start", parse_date),
        "project_end": check.take("project_end", parse_date),
        "partners": check.take("partners", parse_partners),
        "other_de_minimis_aid": check.take("other_de_minimis_aid", parse_other_aid),
    }
    stated = check.take("economic_activity", parse_yes_no)
    project["economic_activity"] = stated if stated is not None else legal_form in ECONOMIC_FORMS

    if received is not None:
        if received > today:
            check.fault(
                "submitted_at", FieldError("field.received_in_the_future", today=today.isoformat())
            )
        elif received.month in call.closed_months:
            closed = FieldError(
                "field.call_closed",
                months=month_names(call.closed_months),
                month_numbers=sorted(call.closed_months),
            )
            check.fault("submitted_at", closed)
    if legal_form and number and number[0] != LEGAL_FORMS[legal_form]:
        check.fault(
            "organisation_number",
            FieldError(
                "field.number_of_another_form",
                legal_form=legal_form,
                digit=LEGAL_FORMS[legal_form],
            ),
        )
    number_faulty = any(f.field == "organisation_number" for f in check.faults)
    if legal_form and number is None and not number_faulty:
        if legal_form == "ideell förening":
            warnings.append("no_organisation_number")
        else:
            check.fault(
                "organisation_number", FieldError("field.number_required", legal_form=legal_form)
            )
    if not organisation["bankgiro"] and not organisation["plusgiro"]:
        warnings.append("no_payment_account")
    _check_amounts(check, call, project)
    _check_period(check, call, project, received)
    if project["partners"] == []:
        warnings.append("no_partners")
    if project["economic_activity"] and project["other_de_minimis_aid"] is None:
        warnings.append("no_de_minimis_declaration")

    if check.faults:
        raise InvalidApplication(check.faults)
    return ValidApplication(
        submission_id=submission_id or None,
        date_received=received,
        language=language,
        organisation=organisation,
        project=project,
        warnings=warnings,
    )


def _check_amounts(check: _Checker, call: Call, project: dict[str, Any]) -> None:
    amount = project["requested_amount"]
    if amount is None:
        return
    if not call.minimum_grant <= amount <= call.maximum_grant:
        check.fault(
            "requested_amount",
            FieldError(
                "field.amount_out_of_range", minimum=call.minimum_grant, maximum=call.maximum_grant
            ),
        )
    cash, hours = project["co_financing_cash"], project["co_financing_hours"]
    if cash is None or hours is None:
        return
    total = cash + hours * call.co_financing_hourly_rate
    if total < amount:
        check.fault(
            "co_financing_cash",
            FieldError(
                "field.co_financing",
                cash=cash,
                hours=hours,
                rate=call.co_financing_hourly_rate,
                total=total,
                amount=amount,
            ),
        )


def _check_period(
    check: _Checker, call: Call, project: dict[str, Any], received: date | None
) -> None:
    start, end = project["project_start"], project["project_end"]
    if start is None or end is None:
        return
    if end < start:
        check.fault("project_end", FieldError("field.end_before_start", start=start.isoformat()))
    elif end >= months_after(start, call.max_project_months):
        last = months_after(start, call.max_project_months) - timedelta(days=1)
        check.fault(
            "project_end",
            FieldError(
                "field.project_too_long", months=call.max_project_months, last=last.isoformat()
            ),
        )
    if received is not None and start < received:
        check.fault(
            "project_start",
            FieldError("field.start_before_received", received=received.isoformat()),
        )
