"""The configuration file (GRANTS_CONFIG, `config/grants.toml`) as typed sections.

The file is read once per `Settings` and checked before any work starts. Every key is known
(a misspelt one is refused, not ignored), every value has its TOML type and a range a real
value meets: a wrong one is refused in one line naming the key as the file writes it, the
value and why (`[call] budget: -5 must be 0 or more`), instead of surfacing later as a
traceback in the middle of a step or a letter.

The domain takes plain values: `GrantsConfig.plain()` is the whole file, checked and with
its defaults filled in, as the mappings `Rules.from_config` and `reference_data.sync` read.
"""

import difflib
import re
import tomllib
from datetime import date, time
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from models.identifiers import IdentifierError, bankgiro, organisation_number
from models.payments import EVENTS
from models.people import DEFAULT_INCLUDE_CASE_OFFICER, DEFAULT_QUORUM, STAFF_ROLES
from models.rules import Rules
from models.tables import Call, Role
from models.text import clipped, quoted
from models.validation import FieldError, parse_email

DEFAULT_RULES = Rules()


class ConfigError(ValueError):
    """A configuration file that cannot be used: one line naming the key as the file writes
    it (`[call] budget`), the value and why."""


class Misfit(ValueError):
    """A value that does not fit the rest of its section (a minimum above its maximum):
    raised by a section's own check, naming the key, below the section, it is about."""

    def __init__(self, key: tuple[str, ...], value: Any, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.value = value
        self.reason = reason


def _refuse(reason: str) -> PydanticCustomError:
    return PydanticCustomError("config", reason)


def _email(value: str) -> str:
    try:
        return parse_email(value).lower()
    except FieldError as error:
        raise _refuse(str(error)) from None


def _mailbox(value: str) -> str:
    """`Name <address>` or a bare address, as a From header takes it."""
    _, address = parseaddr(value)
    if not address:
        raise _refuse("is not a sender address: write 'Name <address@example.se>'")
    _email(address)
    return value.strip()


def _web_address(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse("is not a web address starting with https:// or http://")
    return value.strip().rstrip("/")


def _month(value: int) -> int:
    if not 1 <= value <= 12:
        raise _refuse("is not a month (1 to 12)")
    return value


def _office_hours(value: str) -> str:
    """`HH:MM-HH:MM`, the first before the second: the day a meeting must fit in."""
    try:
        opens, closes = (time.fromisoformat(t.strip()) for t in value.split("-"))
    except ValueError:
        raise _refuse("is not office hours written HH:MM-HH:MM, as 08:00-17:00") from None
    if opens >= closes:
        raise _refuse("closes before it opens: write the opening time first")
    return f"{opens:%H:%M}-{closes:%H:%M}"


def _staff_role(value: object) -> Role:
    if value in STAFF_ROLES:
        return Role(value)
    raise _refuse(f"is not a role for people: one of {', '.join(STAFF_ROLES)}")


def _organisation_number(value: str) -> str:
    try:
        return organisation_number(value)
    except IdentifierError as error:
        raise _refuse(str(error)) from None


def _iban(value: str) -> str:
    """A Swedish IBAN (SE, 24 characters), spaces allowed, with its mod-97 check."""
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"SE[0-9]{22}", compact):
        raise _refuse("is not a Swedish IBAN: SE and 22 digits, as SE45 5000 0000 0583 9825 7466")
    if int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 != 1:
        raise _refuse("has a wrong check (digits 3–4 do not match the rest)")
    return compact


def _bic(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", value):
        raise _refuse("is not a BIC: 8 or 11 capital letters and digits, as ESSESESS")
    return value


def _bankgiro(value: str) -> str:
    try:
        return bankgiro(value)
    except IdentifierError as error:
        raise _refuse(f"is not a bankgiro number: {error}") from None


def _prefix(value: str) -> str:
    if not (value.isascii() and value.isalpha() and value.isupper() and len(value) <= 5):
        raise _refuse("is not a prefix of 1 to 5 capital letters A–Z, as RS")
    return value


def _canonical_address(value: str) -> str:
    """A web address kept exactly as written, once it is one."""
    _web_address(value)
    return value.strip()


CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"


def _open_data_prefix(value: str) -> str:
    """The publisher's 360Giving prefix without its `360G-`: letters, digits and hyphens."""
    if value.upper().startswith("360G-"):
        raise _refuse("starts with 360G-: write the prefix without it, as rol for 360G-rol")
    if not re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", value) or len(value) > 40:
        raise _refuse("is not a 360Giving prefix: letters and digits (hyphens between), as rol")
    return value


Text = Annotated[str, Strict(), Field(min_length=1)]
OptionalText = Annotated[str, Strict()]
Email = Annotated[str, Strict(), AfterValidator(_email)]
Kronor = Annotated[int, Strict(), Field(ge=0)]  # whole kronor, as the call's amounts are
Count = Annotated[int, Strict(), Field(ge=1)]
WebAddress = Annotated[str, Strict(), AfterValidator(_web_address)]


class Section(BaseModel):
    """A table of the file: no key it does not know, each value of its TOML type."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Authority(Section):
    """The letterhead, the signature's unit and the sender of every e-mail."""

    name: Text
    unit: Text
    unit_en: Text  # English letters name the unit in English
    postal_address: Text
    postcode: Text
    city: Text
    phone: Text
    email: Email
    website: Text
    mail_from: Annotated[str, Strict(), AfterValidator(_mailbox)]
    # Where money paid back goes (repayment decisions name it with the claim's OCR reference).
    bankgiro: Annotated[str, Strict(), AfterValidator(_bankgiro)] | None = None
    # The letters' notices (templates/letters/parts.html): the court that hears an appeal
    # (laglighetsprövning), the notice board where the day the appeal time starts is
    # published, and the data protection notice (GDPR art. 13) of the acknowledgement.
    appeal_court: Text
    appeal_court_en: Text
    appeal_court_address: Text
    appeal_court_website: WebAddress
    notice_board: WebAddress
    controller: Text  # personuppgiftsansvarig
    controller_en: Text
    data_protection_officer: Email
    retention: Text  # how long the case's documents are kept, and by which rule
    retention_en: Text


class Registry(Section):
    """The register's case references: YY + prefix + serial (26RS1234)."""

    prefix: Annotated[str, Strict(), AfterValidator(_prefix)]
    first_serial: Count = 1


CALL = Call.model_fields


def _event(value: str) -> str:
    if value not in EVENTS:
        raise _refuse(f"is not an event a payment waits for: one of {', '.join(EVENTS)}")
    return value


class Instalment(Section):
    """One instalment of the payment plan: its share of the grant, and after what."""

    percent: Annotated[int, Strict(), Field(ge=1, le=100)]
    after: Annotated[str, Strict(), AfterValidator(_event)]


def _group_code(value: str) -> str:
    if not value.isidentifier() or not value.isascii():
        raise _refuse("is not a code: letters, digits and _ only, such as young_people")
    return value


class ParticipantGroup(Section):
    """A group whose participants a final report counts: its code and its name in Swedish
    and English (the grantee's form speaks the case's language)."""

    code: Annotated[str, Strict(), AfterValidator(_group_code)]
    name: Text
    name_en: Text


class CallSection(Section):
    """The call for applications: its money and the rules its guidelines set."""

    code: Text
    name: Text
    name_en: OptionalText = CALL["name_en"].default
    budget: Kronor
    minimum_grant: Kronor
    maximum_grant: Kronor
    closed_months: list[Annotated[int, Strict(), AfterValidator(_month)]]
    guidelines_version: Text
    guidelines_version_en: OptionalText = CALL["guidelines_version_en"].default
    co_financing_hourly_rate: Kronor = CALL["co_financing_hourly_rate"].default
    max_project_months: Count = CALL["max_project_months"].default
    handling_weeks: Count = CALL["handling_weeks"].default
    payment_plan: Annotated[list[Instalment], Field(min_length=1)] = [
        Instalment(**instalment) for instalment in CALL["payment_plan"].default_factory()
    ]
    participant_groups: list[ParticipantGroup] = []

    @model_validator(mode="after")
    def _groups_named_once(self) -> "CallSection":
        codes = [group.code for group in self.participant_groups]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise Misfit(("participant_groups",), twice, "names a group twice")
        return self

    @model_validator(mode="after")
    def _grant_range(self) -> "CallSection":
        if self.minimum_grant > self.maximum_grant:
            raise Misfit(
                ("maximum_grant",),
                self.maximum_grant,
                f"is less than minimum_grant ({self.minimum_grant})",
            )
        return self

    @model_validator(mode="after")
    def _whole_grant_paid(self) -> "CallSection":
        total = sum(instalment.percent for instalment in self.payment_plan)
        if total != 100:
            reason = "percent in all: the instalments' shares add up to 100"
            raise Misfit(("payment_plan",), total, reason)
        return self


class Assessment(Section):
    """Deadlines in Swedish working days, the reviewers' quorum and the meetings' frame."""

    supplement_working_days: Count = DEFAULT_RULES.supplement_working_days
    supplement_reminder_working_days: Count = DEFAULT_RULES.supplement_reminder_working_days
    review_working_days: Count = DEFAULT_RULES.review_working_days
    review_quorum: Count = DEFAULT_QUORUM  # seeds the database at the first start
    meeting_minutes: Annotated[int, Strict(), Field(ge=15, le=480)] = DEFAULT_RULES.meeting_minutes
    meeting_hours: Annotated[str, Strict(), AfterValidator(_office_hours)] = (
        DEFAULT_RULES.meeting_hours
    )

    @model_validator(mode="after")
    def _reminder_before_deadline(self) -> "Assessment":
        if self.supplement_reminder_working_days >= self.supplement_working_days:
            raise Misfit(
                ("supplement_reminder_working_days",),
                self.supplement_reminder_working_days,
                "must be fewer than supplement_working_days "
                f"({self.supplement_working_days}): the reminder goes before the deadline",
            )
        return self


class Decision(Section):
    """The delegation the decision maker signs under, and what follows a grant."""

    delegation_point: Text = DEFAULT_RULES.delegation_point
    delegation_point_en: Text = DEFAULT_RULES.delegation_point_en
    final_report_months: Count = DEFAULT_RULES.final_report_months
    communication_working_days: Count = DEFAULT_RULES.communication_working_days
    legal_basis: Text = DEFAULT_RULES.legal_basis
    legal_basis_en: Text = DEFAULT_RULES.legal_basis_en
    guidelines_adopted_on: Annotated[date, Strict()] | None = None
    payment_days: Count = DEFAULT_RULES.payment_days
    report_grace_days: Count = DEFAULT_RULES.report_grace_days
    repayment_days: Count = DEFAULT_RULES.repayment_days


class StateAid(Section):
    """De minimis aid (Regulation (EU) 2023/2831): the rate at which kronor become euro,
    and where it comes from, as the decision names it."""

    sek_per_euro: Annotated[float, Field(gt=1, lt=100)] = DEFAULT_RULES.sek_per_euro
    rate_source: Text = DEFAULT_RULES.rate_source
    rate_source_en: Text = DEFAULT_RULES.rate_source_en


class AdvisoryGroup(Section):
    """Who reviews every case: these people, and the case officer if included."""

    members: list[Email] = []
    include_case_officer: Annotated[bool, Strict()] = DEFAULT_INCLUDE_CASE_OFFICER


class PersonSection(Section):
    """Someone who acts in the system; the e-mail is how they sign in and are found."""

    name: Text
    email: Email
    role: Annotated[Role, BeforeValidator(_staff_role)]
    organisation: Text
    title: OptionalText | None = None
    title_en: OptionalText | None = None  # in letters to applicants who asked for English
    phone: OptionalText | None = None  # direct number in letters; else [authority] phone
    attestant: Annotated[bool, Strict()] = False  # attests payment orders (four eyes)


class PaymentsSection(Section):
    """The Region as the payer in the payment files to its bank (pain.001): the debtor's
    name, organisation number and account (IBAN with the bank's BIC), and the agreement id
    the bank gave the Region for file payments."""

    debtor_name: Text
    organisation_number: Annotated[str, Strict(), AfterValidator(_organisation_number)]
    iban: Annotated[str, Strict(), AfterValidator(_iban)]
    bic: Annotated[str, Strict(), AfterValidator(_bic)]
    agreement_id: Annotated[str, Strict(), Field(min_length=1, max_length=35)]


class OpenDataSection(Section):
    """The grants as open data (360Giving, `grants open-data`): the publisher's 360Giving
    prefix (360Giving assigns it), the funder's organisation identifier and name as every
    grant names them, the data's licence and the publisher's web address."""

    prefix: Annotated[str, Strict(), AfterValidator(_open_data_prefix)]
    funder_id: Text
    funder_name: Text
    # The licence's canonical address, kept as written (a trailing / is part of it).
    license: Annotated[str, Strict(), AfterValidator(_canonical_address)] = CC0
    website: WebAddress | None = None


class OfficeSection(Section):
    """The web office (`grants serve`)."""

    base_url: WebAddress | None = None  # where e-mailed links point; unset: Settings.base_url
    idle_minutes: Count = 30  # a session unused this long ends
    sign_in_link_minutes: Count = 15  # an e-mailed sign-in link is valid this long, and once
    applicant_link_days: Annotated[int, Strict(), Field(ge=0)] = 14  # after the deadline
    # The demo's and the tests' office only: applicants' personal links over plain http.
    allow_http_links: Annotated[bool, Strict()] = False


class HealthSection(Section):
    """What `grants health` and the office's /healthz call a warning, and failing."""

    letters_warning_minutes: Count = 20  # a letter not yet made or sent this long
    letters_failing_minutes: Count = 120
    workers_seen_seconds: Count = 75  # a worker not heard from this long is gone
    anchor_warning_hours: Count = 80  # events not anchored for this long (a weekend: 72 h)
    anchor_failing_hours: Count = 176
    disk_warning_megabytes: Count = 2048  # free under GRANTS_HOME
    disk_failing_megabytes: Count = 256

    @model_validator(mode="after")
    def _failing_beyond_warning(self) -> "HealthSection":
        for warning, failing, worse in (
            ("letters_warning_minutes", "letters_failing_minutes", "more"),
            ("anchor_warning_hours", "anchor_failing_hours", "more"),
            ("disk_warning_megabytes", "disk_failing_megabytes", "less"),
        ):
            low, high = getattr(self, warning), getattr(self, failing)
            if (high <= low) if worse == "more" else (high >= low):
                reason = f"must be {worse} than {warning} ({low}): failing is worse than a warning"
                raise Misfit((failing,), high, reason)
        return self


class Oidc(Section):
    """Sign-in for the region's staff through its identity provider (OpenID Connect)."""

    name: Text
    server_metadata_url: WebAddress
    client_id: Text
    client_secret: OptionalText = ""  # GRANTS_OIDC_CLIENT_SECRET overrides it


class Auth(Section):
    """`[auth]`: its only table is `[auth.oidc]`; without it staff sign in by e-mailed link."""

    oidc: Oidc | None = None


def _age_recipient(value: str) -> str:
    """An age public key (age1…), as `age-keygen` prints it: whom backups are encrypted for."""
    import pyrage

    try:
        pyrage.x25519.Recipient.from_str(value.strip())
    except pyrage.RecipientError:
        raise _refuse("is not an age public key: write the age1… line age-keygen prints") from None
    return value.strip()


class BackupSection(Section):
    """`grants backup`: where the archives go, whom they are encrypted for, which are kept."""

    folder: OptionalText = ""  # empty: GRANTS_HOME/backups
    recipient: Annotated[str, Strict(), AfterValidator(_age_recipient)] | None = None
    keep_daily: Count = 7  # the newest archive of each of the last N days
    keep_weekly: Annotated[int, Strict(), Field(ge=0)] = 5  # … of each of the last N weeks
    keep_monthly: Annotated[int, Strict(), Field(ge=0)] = 12  # … of each of the last N months


def _existing_file(value: str) -> str:
    if not Path(value).is_file():
        raise _refuse("is not a file: give the full path of one that exists")
    return value


File = Annotated[str, Strict(), AfterValidator(_existing_file)]


class Pkcs11Section(Section):
    """The e-seal's key on a hardware security module, reached through its PKCS#11 module."""

    module: File  # the module's shared library, as /usr/lib/softhsm/libsofthsm2.so
    token_label: Text
    key_label: Text  # the key's label; its certificate has the same label


class SealSection(Section):
    """The authority's e-seal on signed decisions (grants.seal): a PKCS#12 file or a key on
    a hardware module, the trust anchor `grants verify` checks it against, and a timestamp
    service. `generated`: a seal of its own, made in GRANTS_HOME: the demo's and the
    tests', never a real authority's."""

    generated: Annotated[bool, Strict()] = False
    pkcs12: File | None = None
    passphrase: OptionalText = ""  # GRANTS_SEAL_PASSPHRASE (or _FILE) overrides it
    pkcs11: Pkcs11Section | None = None
    trust_anchor: File | None = None
    timestamp_url: WebAddress | None = None

    @model_validator(mode="after")
    def _one_key(self) -> "SealSection":
        """One seal, and a trust anchor for any but a generated one (which is its own)."""
        given = [name for name in ("generated", "pkcs12", "pkcs11") if getattr(self, name)]
        if not given:
            reason = "and no pkcs12 or [seal.pkcs11]: give one of the three (see README, The seal)"
            raise Misfit(("generated",), False, reason)
        if len(given) > 1:
            value = self.pkcs12 if given[1] == "pkcs12" else {}  # {}: shown as "a table"
            raise Misfit((given[1],), value, f"and {given[0]} both given: give one")
        if self.generated and self.trust_anchor:
            raise Misfit(("trust_anchor",), self.trust_anchor, "is a generated seal's own")
        if not self.generated and not self.trust_anchor:
            raise Misfit(("trust_anchor",), "", "is missing: the CA certificate to check against")
        return self


class GrantsConfig(Section):
    """The whole file. [authority], [registry] and [call] are required; the rest have
    defaults."""

    authority: Authority
    registry: Registry
    call: CallSection
    assessment: Assessment = Assessment()
    decision: Decision = Decision()
    state_aid: StateAid = StateAid()
    advisory_group: AdvisoryGroup = AdvisoryGroup()
    people: list[PersonSection] = []
    office: OfficeSection = OfficeSection()
    payments: PaymentsSection | None = None  # needed to make payment files, not to start
    open_data: OpenDataSection | None = None  # needed to publish open data, not to start
    auth: Auth = Auth()
    backup: BackupSection = BackupSection()
    health: HealthSection = HealthSection()
    seal: SealSection | None = None  # required to start (grants.settings), not to be read

    @model_validator(mode="after")
    def _people_fit(self) -> "GrantsConfig":
        """Each person once; reviewers who are people; a quorum the group can reach."""
        seen: dict[str, int] = {}
        for number, person in enumerate(self.people):
            if person.email in seen:
                first = self.people[seen[person.email]]
                reason = f"is also the e-mail of person {seen[person.email] + 1} ({first.name})"
                raise Misfit(("people", number, "email"), person.email, reason)
            seen[person.email] = number
        for member in self.advisory_group.members:
            if member not in seen:
                raise Misfit(("advisory_group", "members"), member, "is not one of the [[people]]")
        group = len(set(self.advisory_group.members)) + self.advisory_group.include_case_officer
        if self.assessment.review_quorum > group:
            raise Misfit(
                ("assessment", "review_quorum"),
                self.assessment.review_quorum,
                f"is more than the {group} reviewer(s) of [advisory_group]",
            )
        return self

    def plain(self) -> dict[str, Any]:
        """The file as checked, defaults filled in, in plain values for the domain."""
        return self.model_dump()


def read_config(path: Path) -> GrantsConfig:
    """The file at `path`, checked. Raises OSError (unreadable), tomllib.TOMLDecodeError or
    UnicodeDecodeError (not TOML), or ConfigError naming the first key that is wrong."""
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    try:
        return GrantsConfig.model_validate(raw)
    except ValidationError as error:
        raise _config_error(error, raw) from None


def _config_error(error: ValidationError, raw: dict[str, Any]) -> ConfigError:
    """The first fault in one line; absent required sections all together."""
    faults = error.errors(include_url=False)
    missing = [f["loc"][0] for f in faults if f["type"] == "missing" and len(f["loc"]) == 1]
    if missing:
        return ConfigError(f"no [{'], ['.join(map(str, missing))}] section")
    # A misspelt key is also a required key missing: the misspelling says more.
    fault = min(faults, key=lambda f: f["type"] != "extra_forbidden")
    loc, value = tuple(fault["loc"]), fault.get("input")
    misfit = fault.get("ctx", {}).get("error")
    if isinstance(misfit, Misfit):
        loc, value = loc + misfit.key, misfit.value
    key, known = _toml_key(loc, raw)
    if fault["type"] == "extra_forbidden" and len(loc) == 1 and not isinstance(value, dict):
        return ConfigError(f"{key}: a key outside every [section]; move it under its section")
    if fault["type"] == "extra_forbidden":
        return ConfigError(f"{key}: {_unknown(loc, known)}")
    if fault["type"] == "missing":
        return ConfigError(f"{key}: missing; it is required")
    hidden = "secret" in str(loc[-1]) or "passphrase" in str(loc[-1])
    shown = "(hidden)" if hidden else _shown(value)
    reason = misfit.reason if isinstance(misfit, Misfit) else _reason(fault)
    return ConfigError(f"{key}: {shown} {reason}")


def _toml_key(loc: tuple[Any, ...], raw: dict[str, Any]) -> tuple[str, type[BaseModel]]:
    """`loc` as the file writes it (`[call] budget`, `[auth.oidc] client_id`,
    `[[people]] 2 (Johan Ek) email`), and the model of the table it is in."""
    rest, node, model = list(loc), raw, GrantsConfig
    tables: list[str] = []
    header = ""
    while len(rest) > 1 and isinstance(node, dict):
        name, child, inner = str(rest[0]), node.get(str(rest[0])), _field_model(model, rest[0])
        if isinstance(child, dict) and inner is not None:
            tables.append(name)
            node, model, header = child, inner, f"[{'.'.join(tables)}]"
            rest.pop(0)
        elif isinstance(child, list) and isinstance(rest[1], int) and inner is not None:
            number = rest[1]
            item = child[number] if number < len(child) else None
            who = f" ({item['name']})" if isinstance(item, dict) and "name" in item else ""
            header = f"[[{'.'.join([*tables, name])}]] {number + 1}{who}"
            node, model, rest = item, inner, rest[2:]
            break
        else:
            break
    if not header:  # a section missing or not a table, or a key outside every table
        name = str(rest[0])
        table = name not in raw or isinstance(raw[name], dict) or _field_model(model, name)
        return (f"[{name}]" if table else name), model
    return (f"{header} {rest[0]}" if rest else header), model


def _field_model(model: type[BaseModel], name: object) -> type[BaseModel] | None:
    """The section model a field of `model` holds (Oidc for `oidc: Oidc | None`)."""
    field = model.model_fields.get(str(name))
    candidates = [field.annotation] if field else []
    while candidates:
        candidate = candidates.pop()
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        candidates.extend(get_args(candidate))
    return None


def _unknown(loc: tuple[Any, ...], known: type[BaseModel]) -> str:
    """A key the table does not have, with the one probably meant."""
    name = str(loc[-1])
    sections = known is GrantsConfig
    what = "section" if sections else "key"
    close = difflib.get_close_matches(name, list(known.model_fields), n=1, cutoff=0.6)
    if close:
        meant = f"[{close[0]}]" if sections else close[0]
        return f"no such {what}; did you mean {meant}?"
    return f"no such {what}; known are {', '.join(known.model_fields)}"


REASONS = {
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "string_type": "is not text: write it in quotes",
    "bool_type": "is not true or false",
    "list_type": "is not a list: write it in brackets, [...]",
    "model_type": "is not a table",
    "model_attributes_type": "is not a table",
    "dict_type": "is not a table",
    "string_too_short": "is empty",
    "too_short": "is an empty list",
}


def _reason(fault: Any) -> str:
    ctx = fault.get("ctx", {})
    if fault["type"] == "greater_than_equal":
        return f"must be {ctx['ge']} or more"
    if fault["type"] == "less_than_equal":
        return f"must be {ctx['le']} or less"
    return REASONS.get(fault["type"], fault["msg"])


def _shown(value: Any) -> str:
    """The value as the file has it (a TOML table or boolean in TOML's words)."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quoted(value) if isinstance(value, str) else str(clipped(value))
