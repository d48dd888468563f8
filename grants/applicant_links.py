"""The applicant's personal link: where a letter that asks for an answer can be answered.

The applicant has no account. The link itself says which case and which request (a
supplement request or a communication, and its number) and until when it opens: some
days (`[office] applicant_link_days`) after the request's deadline. It is signed with the
office's secret, so nobody can make one or change what it names. The same link comes out
every time a letter is mailed (no time stamp of its own). It is in the e-mail only, never
in the PDF, an official document anyone may ask for. Made where letters are mailed (the
send-letters flow) and read by the office (`grants.web.applicant`): both import this
module. The link is a secret: the office sends no Referer with it, and no office starts
with a plain http `base_url` unless the configuration allows it (grants.settings)."""

from dataclasses import dataclass
from datetime import date, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from grants.settings import Settings
from models import clock
from models.applicant import ASKED, COMMUNICATION, REPAYMENT, SUPPLEMENT
from models.decisions import GRANTS
from models.letters import COMMUNICATION as COMMUNICATION_LETTER
from models.letters import (
    COMMUNITY_TALK_INVITATION,
    DECISION,
    FINAL_REPORT_MORE,
    FINAL_REPORT_REMINDER,
    FOLLOW_UP,
    REPAYMENT_COMMUNICATION,
    SUPPLEMENT_REQUEST,
)
from models.tables import Letter

SALT = "grants.applicant-link"
# The grantee's link, where the conditions of a grant are accepted and the account given
# (and later changed): a salt of its own, so no link to answer a request opens it.
ACCEPTANCE_SALT = "grants.acceptance-link"
ACCEPTANCE = "acceptance"
# Without a final report's due date, a grantee's link opens this long after the decision.
ACCEPTANCE_DAYS = 730
# The grantee's link to answer its Community Talk invitation (which Talk, who presents, how
# many come): a salt of its own. It opens a year past the Talk invited to, as the answer may
# move to a later Talk (two a year) and the page then still shows it.
TALK_SALT = "grants.talk-link"
TALK = "talk"
TALK_LINK_DAYS = 365
# The grantee's link to its final report's form: a salt of its own. It is mailed with the
# Community Talk invitation, the report's reminders and a request for more, and opens this
# long after the report's due date (or the letter, without one): time for a request for more.
REPORT_SALT = "grants.final-report-link"
FINAL_REPORT = "final_report"
REPORT_DAYS = 365
REPORT_LETTERS = (COMMUNITY_TALK_INVITATION, FINAL_REPORT_REMINDER, FINAL_REPORT_MORE)
# The grantee's link to the follow-up a year after the project ended: a salt of its own,
# open until the answer's deadline (and `applicant_link_days`, to read the answer given).
FOLLOW_UP_SALT = "grants.follow-up-link"
FOLLOW_UP_KIND = "follow_up"
ASKING_LETTERS = {
    SUPPLEMENT_REQUEST: SUPPLEMENT,
    COMMUNICATION_LETTER: COMMUNICATION,
    REPAYMENT_COMMUNICATION: REPAYMENT,
}


@dataclass(frozen=True)
class LinkClaims:
    """What a link names: the case, the request (kind and number), and its last day."""

    case_reference: str
    kind: str
    number: int
    expires: date


class LinkRefused(Exception):
    """The link cannot be used: not one of ours, changed, or no longer valid."""


class LinkInvalid(LinkRefused):
    """Not signed by this office, or changed since: it names nothing."""


class LinkExpired(LinkRefused):
    """A real link past its last day: what it names is known (the page's language)."""

    def __init__(self, claims: LinkClaims) -> None:
        super().__init__(f"the link for {claims.case_reference} expired on {claims.expires}")
        self.claims = claims


def _serializer(settings: Settings) -> URLSafeSerializer:
    """Signs with the current key; reads a link signed with it or an earlier one."""
    return URLSafeSerializer(settings.verifying_keys, salt=SALT)


def link_for(
    settings: Settings, case_reference: str, kind: str, number: int, deadline: date | str
) -> str:
    """The applicant's link for one request, valid until `applicant_link_days` after its
    deadline."""
    if isinstance(deadline, str):
        deadline = date.fromisoformat(deadline)
    expires = deadline + timedelta(days=settings.applicant_link_days)
    token = _serializer(settings).dumps([case_reference, kind, number, expires.isoformat()])
    return f"{settings.base_url}/a/{token}"


def read(settings: Settings, token: str, today: date | None = None) -> LinkClaims:
    """What a link's token names; `LinkInvalid` if it is not ours or was changed,
    `LinkExpired` after its last day."""
    try:
        case_reference, kind, number, expires = _serializer(settings).loads(token)
        claims = LinkClaims(str(case_reference), kind, int(number), date.fromisoformat(expires))
    except (BadSignature, TypeError, ValueError) as error:
        raise LinkInvalid("not a link of this office") from error
    if claims.kind not in ASKED:
        raise LinkInvalid("not a link of this office")
    if (today or clock.today()) > claims.expires:
        raise LinkExpired(claims)
    return claims


def asks_for_answer(letter: Letter) -> bool:
    """Whether the letter's e-mail carries a personal link (`letter_link`) that its PDF
    tells of: a request's, or the Community Talk invitation's."""
    return letter.kind in ASKING_LETTERS or letter.kind in (COMMUNITY_TALK_INVITATION, FOLLOW_UP)


def letter_link(settings: Settings, letter: Letter) -> str | None:
    """The link a letter carries, if it asks the applicant for an answer; a grant's
    decision carries the grantee's link to accept its conditions."""
    if letter.kind == DECISION:
        return _granted_link(settings, letter)
    if letter.kind == COMMUNITY_TALK_INVITATION:
        held_on = date.fromisoformat(letter.data["talk"]["held_on"])
        expires = held_on + timedelta(days=TALK_LINK_DAYS + settings.applicant_link_days)
        return talk_link(settings, letter.case.case_reference, expires)
    if letter.kind in REPORT_LETTERS:
        return _report_link(settings, letter)
    if letter.kind == FOLLOW_UP:
        expires = date.fromisoformat(letter.data["deadline"])
        return follow_up_link(settings, letter.case.case_reference, expires)
    kind = ASKING_LETTERS.get(letter.kind)
    if kind is None:
        return None
    data = letter.data
    return link_for(settings, letter.case.case_reference, kind, data["number"], data["deadline"])


def acceptance_link(settings: Settings, case_reference: str, expires: date) -> str:
    """The grantee's link for the case's grant: to accept its conditions and give the
    account, and afterwards to change the account."""
    return _case_link(settings, ACCEPTANCE_SALT, "g", case_reference, expires)


def read_acceptance(settings: Settings, token: str, today: date | None = None) -> LinkClaims:
    """What a grantee's link names (the kind `acceptance`); `LinkInvalid` or `LinkExpired`
    as for the applicant's links."""
    return _read_case_link(settings, ACCEPTANCE_SALT, ACCEPTANCE, token, today)


def _granted_link(settings: Settings, letter: Letter) -> str | None:
    """A grant's decision: the grantee's link, open until `applicant_link_days` after the
    final report is due (the last payment waits for it)."""
    data = letter.data
    if data.get("outcome") not in GRANTS or data.get("draft"):
        return None
    due = data.get("final_report_due")
    if due:
        last = date.fromisoformat(due)
    else:
        last = date.fromisoformat(str(data["decided_at"])[:10]) + timedelta(days=ACCEPTANCE_DAYS)
    expires = last + timedelta(days=settings.applicant_link_days)
    return acceptance_link(settings, letter.case.case_reference, expires)


def talk_link(settings: Settings, case_reference: str, expires: date) -> str:
    """The grantee's link to answer its Community Talk invitation, and later to read or
    change the answer."""
    return _case_link(settings, TALK_SALT, "t", case_reference, expires)


def read_talk_link(settings: Settings, token: str, today: date | None = None) -> LinkClaims:
    """What a Talk link names (the kind `talk`); `LinkInvalid` or `LinkExpired` as for the
    applicant's links."""
    return _read_case_link(settings, TALK_SALT, TALK, token, today)


def report_link(settings: Settings, case_reference: str, expires: date) -> str:
    """The grantee's link to the case's final report: to write it, save it, come back and
    send it, and to add what the case officer asks for."""
    return _case_link(settings, REPORT_SALT, "r", case_reference, expires)


def read_report(settings: Settings, token: str, today: date | None = None) -> LinkClaims:
    """What a final report's link names (the kind `final_report`); `LinkInvalid` or
    `LinkExpired` as for the other links."""
    return _read_case_link(settings, REPORT_SALT, FINAL_REPORT, token, today)


def _report_link(settings: Settings, letter: Letter) -> str:
    """A letter about the final report: the grantee's link to it, open `REPORT_DAYS` (and
    `applicant_link_days`) after the report's due date, or after the letter without one."""
    due = letter.data.get("final_report_due")
    last = date.fromisoformat(due) if due else letter.created_at.date()
    expires = last + timedelta(days=REPORT_DAYS + settings.applicant_link_days)
    return report_link(settings, letter.case.case_reference, expires)


def final_report_link(settings: Settings, letter: Letter) -> str | None:
    """The grantee's link to its final report, for the letters about the report: the
    Community Talk invitation carries it beside its own link to answer the invitation."""
    return _report_link(settings, letter) if letter.kind in REPORT_LETTERS else None


def follow_up_link(settings: Settings, case_reference: str, deadline: date) -> str:
    """The grantee's link to the follow-up a year after the project ended: to answer it and
    correct the answer until `deadline`, and to read it some days after."""
    expires = deadline + timedelta(days=settings.applicant_link_days)
    return _case_link(settings, FOLLOW_UP_SALT, "f", case_reference, expires)


def read_follow_up(settings: Settings, token: str, today: date | None = None) -> LinkClaims:
    """What a follow-up's link names (the kind `follow_up`); `LinkInvalid` or `LinkExpired`
    as for the other links."""
    return _read_case_link(settings, FOLLOW_UP_SALT, FOLLOW_UP_KIND, token, today)


def _case_link(settings: Settings, salt: str, path: str, case_reference: str, expires: date) -> str:
    """A grantee's link under `path`, naming its case and the last day it opens; each kind
    of link signs with its own `salt`, so that one kind never opens another's page."""
    token = URLSafeSerializer(settings.signing_key, salt=salt).dumps(
        [case_reference, expires.isoformat()]
    )
    return f"{settings.base_url}/{path}/{token}"


def _read_case_link(
    settings: Settings, salt: str, kind: str, token: str, today: date | None
) -> LinkClaims:
    """What a grantee's link of `kind` names; `LinkInvalid` or `LinkExpired` as for the
    applicant's links."""
    serializer = URLSafeSerializer(settings.verifying_keys, salt=salt)
    try:
        case_reference, expires = serializer.loads(token)
        claims = LinkClaims(str(case_reference), kind, 0, date.fromisoformat(expires))
    except (BadSignature, TypeError, ValueError) as error:
        raise LinkInvalid("not a link of this office") from error
    if (today or clock.today()) > claims.expires:
        raise LinkExpired(claims)
    return claims
