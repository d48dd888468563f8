"""The case database: the system of record (if Prefect's own database is lost, no case is).

Amounts are whole kronor (int); times are stored in UTC; texts are stored exactly as
the applicant wrote them and escaped only when rendered.
"""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint, event, inspect
from sqlmodel import Field, Relationship, SQLModel

from models import clock
from models.states import CaseState

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def utcnow() -> datetime:
    """Now, by the domain's clock (models.clock): real time outside a simulation."""
    return clock.now()


def local_time(moment: datetime) -> datetime:
    """A stored time (UTC; SQLite returns it without a zone) in Swedish time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(STOCKHOLM)


def local_date(moment: datetime) -> date:
    return local_time(moment).date()


class Role(StrEnum):
    case_officer = "case_officer"
    advisor = "advisor"
    decision_maker = "decision_maker"
    system = "system"  # automated work started by a flow; never held by a person
    applicant = "applicant"  # the organisation, through its letter's link; never a person
    finance = "finance"  # the finance department: sends payment files, registers what the bank says
    organiser = "organiser"  # arranges the Community Talks (Coompanion): reads the Talks, no case
    committee = "committee"  # the Cultural Affairs Committee: reads the statistics only, no case


class Language(StrEnum):
    sv = "sv"
    en = "en"


class DeliveryState(StrEnum):
    to_render = "to_render"  # ordered by the domain; its PDF is yet to be made
    queued = "queued"  # waiting to be sent, or to be retried after a failure
    sending = "sending"  # claimed by one delivery run; taken again only once it is stale
    sent = "sent"
    failed = "failed"  # set aside: refused for good (5xx) or cannot be built; sent again by choice


class Outcome(StrEnum):
    granted = "granted"  # beviljas
    partly_granted = "partly_granted"  # beviljas delvis
    refused = "refused"  # avslås
    dismissed = "dismissed"  # avvisas: not examined
    closed = "closed"  # avskrivs: e.g. withdrawn


class Criterion(StrEnum):
    """The four basic requirements of the call's guidelines."""

    benefit_to_society = "benefit_to_society"
    innovative = "innovative"
    new_locally = "new_locally"
    anchored_with_partners = "anchored_with_partners"


class FormalRequirement(StrEnum):
    """What an application must meet to be examined at all (FL 20 §), apart from the four
    basic requirements it is examined against: a gap here is remedied by a supplement, and
    one left unremedied leads to dismissal (avvisning), not refusal."""

    identity = "identity"  # who applies: the organisation's name and organisation number
    signatory = "signatory"  # signed by someone with authority to sign for the applicant
    complete = "complete"  # every part of the form: project, budget, period, co-financing


class Answer(StrEnum):
    met = "met"
    not_met = "not_met"
    unclear = "unclear"


class OnExpiry(StrEnum):
    """What happens when a supplement does not arrive by its deadline."""

    examine = "examine"  # examined as it stands
    dismiss = "dismiss"  # proposed for dismissal (FL 20 §)


class ConflictGround(StrEnum):
    """Förvaltningslagen 16 §: why someone may not take part in a case."""

    none = "none"
    own_organisation = "own_organisation"  # the matter concerns one's own organisation
    close_relative = "close_relative"  # … or a close relative
    earlier_involvement = "earlier_involvement"  # e.g. helped write the application
    other = "other"  # another circumstance that undermines confidence in impartiality


class Recommendation(StrEnum):
    granted = "granted"
    partly_granted = "partly_granted"
    refused = "refused"
    needs_supplement = "needs_supplement"


class TaskStatus(StrEnum):
    open = "open"
    conflicted = "conflicted"  # the reviewer declared a conflict and left the case
    submitted = "submitted"


class DecisionStatus(StrEnum):
    draft = "draft"  # förslag till beslut, with the decision maker or being prepared
    sent_back = "sent_back"  # returned by the decision maker with a comment
    superseded = "superseded"  # replaced by a later version (an amendment)
    signed = "signed"  # the decision: final and immutable


class AccountKind(StrEnum):
    """Where a grant is paid: the three kinds of Swedish account a payment file can name."""

    bankgiro = "bankgiro"
    plusgiro = "plusgiro"
    bank_account = "bank_account"  # clearing number and account number at a Swedish bank


class PaymentStatus(StrEnum):
    """A payment order's path: prepared by one person, attested by another (four eyes), sent
    to the bank in a payment file, and paid or rejected by the bank."""

    prepared = "prepared"  # by the case officer; waits for attestation
    attested = "attested"  # by another person; waits for the next payment file
    exported = "exported"  # in a payment file; waits for the bank's report
    paid = "paid"  # the bank reported it paid (camt.054), or it was registered by hand
    rejected = "rejected"  # the bank refused it (pain.002): back with the case officer
    cancelled = "cancelled"  # withdrawn before it was exported, with a reason


class RepaymentStatus(StrEnum):
    """A repayment claim (återkrav): drafted, communicated (FL 25 §), decided as a decision
    of its own, and settled when the money is back."""

    drafted = "drafted"
    communicated = "communicated"  # sent to the grantee for comments, deadline running
    decided = "decided"  # the decision maker decided it: the grantee owes the amount
    settled = "settled"  # paid back in full (the bank's camt.054 or registered by hand)
    withdrawn = "withdrawn"  # not pursued, with a reason


class MeetingStatus(StrEnum):
    booked = "booked"
    rebooked = "rebooked"  # replaced by a later booking
    held = "held"
    skipped = "skipped"


class Call(SQLModel, table=True):
    """A call for applications (utlysning) with the rules its guidelines set."""

    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str
    name_en: str = ""
    budget: int
    minimum_grant: int
    maximum_grant: int
    closed_months: list[int] = Field(sa_column=Column(JSON, nullable=False))
    guidelines_version: str
    guidelines_version_en: str = ""  # the same guidelines, named in English letters
    co_financing_hourly_rate: int = 330
    max_project_months: int = 24
    handling_weeks: int = 8  # what the acknowledgement promises
    # How a grant is paid: instalments, each a share of the grant in percent and when it
    # may be paid ("acceptance": once the conditions are accepted; "final_report": once the
    # final report is approved). The shares add up to 100.
    payment_plan: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"percent": 100, "after": "acceptance"}],
        sa_column=Column(JSON, nullable=False),
    )
    # The groups whose participants a final report counts, as the call names them:
    # [{"code": "young", "name": "Unga 13–25 år", "name_en": "Young people 13–25"}].
    participant_groups: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class Organisation(SQLModel, table=True):
    """The applicant. A non-profit may not have an organisation number yet."""

    __tablename__ = "organisations"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    organisation_number: str | None = Field(default=None, unique=True, index=True)
    legal_form: str
    municipality: str
    email: str
    contact_person: str
    phone: str | None = None
    postal_address: str | None = None
    postcode: str | None = None
    city: str | None = None
    bankgiro: str | None = None
    plusgiro: str | None = None


class Person(SQLModel, table=True):
    """Someone who acts in the system; their own organisation matters for conflicts."""

    __tablename__ = "people"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str = Field(unique=True, index=True)
    role: Role
    organisation: str
    title: str | None = None
    title_en: str | None = None  # in letters to applicants who asked for English
    phone: str | None = None  # direct number, in letters; the switchboard where there is none
    # People live in the database (the configuration file seeds them once).
    active: bool = True  # a deactivated person signs in no more and is assigned nothing
    in_advisory_group: bool = False  # reviews every case (models.people.advisory_group)
    attestant: bool = False  # may attest payment orders, as the decision maker may


class AdvisoryGroup(SQLModel, table=True):
    """The advisory group's rules, one row: the quorum of reviews and whether the case
    officer reviews too. Its row also says the people were seeded from the configuration
    file: after that the database is the truth (models.people)."""

    __tablename__ = "advisory_group"

    id: int | None = Field(default=None, primary_key=True)
    review_quorum: int
    include_case_officer: bool


class Case(SQLModel, table=True):
    """One application and everything decided about it (ärende)."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    case_reference: str = Field(unique=True, index=True)
    intake_key: str = Field(unique=True, index=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    case_officer_id: int | None = Field(default=None, foreign_key="people.id")
    state: CaseState = Field(default=CaseState.received, index=True)
    submission_id: str | None = None
    date_received: date
    registered_at: datetime = Field(default_factory=utcnow)
    language: Language = Language.sv
    project_title: str
    requested_amount: int
    co_financing_cash: int = 0
    co_financing_hours: int = 0
    project_start: date
    project_end: date
    societal_challenge: str
    description: str
    innovation: str = ""
    long_term_effects: str = ""
    target_group: str
    partners: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    expected_decision_on: date | None = None  # promised in the acknowledgement (FL 11 §)
    delay_notified_at: datetime | None = None  # the one delay notice, when it was ordered
    proposed_outcome: Outcome | None = None  # set when the case goes to a draft decision
    proposal_reason: str | None = None
    # State aid: whether the applicant carries on economic activity (its grant is
    # then de minimis aid, models.state_aid), and its declaration of the other de minimis aid
    # it received in the last three years: [{grantor, amount, granted_on}], [] for none,
    # None while it has not declared.
    economic_activity: bool = False
    other_de_minimis_aid: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )

    organisation: Organisation = Relationship()
    call: Call = Relationship()
    case_officer: Person | None = Relationship()


class Delivery(SQLModel):
    """How an outgoing e-mail fared: shared by letters and notices (models.delivery)."""

    delivery_state: DeliveryState = Field(default=DeliveryState.queued, index=True)
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    delivered_via: str | None = None
    # At-least-once delivery: when a run claimed it (a claim older than twice the
    # SMTP timeout was interrupted), when a temporary failure may be retried, and when the
    # first failure came (retries end after a configured time).
    claimed_at: datetime | None = None
    retry_at: datetime | None = None
    first_failed_at: datetime | None = None


class Letter(Delivery, table=True):
    """A document that went, or is going, to the applicant: a record of the case.

    Ordered by the domain in the same transaction as the step that calls for it, so it
    cannot be forgotten; rendered and delivered afterwards by flows.
    """

    __tablename__ = "letters"

    id: int | None = Field(default=None, primary_key=True)
    letter_key: str = Field(unique=True, index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str
    language: Language
    recipient: str
    filename: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # kind's facts
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    sha256: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivery_state: DeliveryState = Field(default=DeliveryState.to_render, index=True)

    case: Case = Relationship()


class AuditEvent(SQLModel, table=True):
    """Append-only trail: who, in which role, when, what, and the state before and after."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str
    role: Role
    action: str = Field(index=True)  # models.looks finds what changed by it
    state_before: CaseState | None = None
    state_after: CaseState | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # The trail as a hash chain (models.audit): the hash of the event before, and
    # this event's own hash over that and everything it says.
    prev_hash: str = ""
    hash: str = ""

    case: Case | None = Relationship()


class ChecklistAnswer(SQLModel, table=True):
    """The case officer's finding on one basic requirement, in one round of the checklist."""

    __tablename__ = "checklist_answers"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    round: int
    criterion: Criterion
    answer: Answer
    note: str = ""
    answered_by: str
    answered_at: datetime = Field(default_factory=utcnow)


class FormalAnswer(SQLModel, table=True):
    """The case officer's finding on one formal requirement, in one round of the checklist."""

    __tablename__ = "formal_answers"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    round: int
    requirement: FormalRequirement
    answer: Answer
    note: str = ""
    answered_by: str
    answered_at: datetime = Field(default_factory=utcnow)


class SupplementRequest(SQLModel, table=True):
    """A request for supplement (komplettering): what is missing, and by when."""

    __tablename__ = "supplement_requests"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    number: int
    missing: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    deadline: date
    on_expiry: OnExpiry
    dismiss_because: str = ""  # the officer's reason the gap would prevent examination
    requested_by: str
    requested_at: datetime = Field(default_factory=utcnow)
    reminded_at: datetime | None = None
    received_at: datetime | None = None
    expired_at: datetime | None = None

    case: Case = Relationship()


class Document(SQLModel, table=True):
    """A document that came in to the case (a supplement), kept as received."""

    __tablename__ = "documents"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str
    filename: str  # as sent, a label only
    media_type: str = "application/octet-stream"  # judged by content (models.documents)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str
    registered_by: str
    received_at: datetime = Field(default_factory=utcnow)


class ReviewTask(SQLModel, table=True):
    """One advisory group member's review of one case: conflict declaration first."""

    __tablename__ = "review_tasks"
    __table_args__ = (UniqueConstraint("case_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    reviewer_id: int = Field(foreign_key="people.id", index=True)
    status: TaskStatus = Field(default=TaskStatus.open, index=True)
    due: date
    created_at: datetime = Field(default_factory=utcnow)
    reminded_at: datetime | None = None
    conflict: ConflictGround | None = None  # None: not declared yet
    conflict_note: str = ""
    declared_at: datetime | None = None
    recommendation: Recommendation | None = None
    proposed_amount: int | None = None
    reasons: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    other_funding: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    comments: str = ""
    submitted_at: datetime | None = None

    case: Case = Relationship()
    reviewer: Person = Relationship()


class Meeting(SQLModel, table=True):
    """The meeting with the applicant (or the recorded reason it was skipped)."""

    __tablename__ = "meetings"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    number: int
    status: MeetingStatus
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str = ""
    participants: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # e-mails
    booked_by: str
    booked_at: datetime = Field(default_factory=utcnow)


class FileNote(SQLModel, table=True):
    """Tjänsteanteckning (FL 27 §): what was said or done, by whom and when."""

    __tablename__ = "file_notes"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str
    text: str
    author: str
    written_at: datetime = Field(default_factory=utcnow)


class Notice(Delivery, table=True):
    """An internal e-mail to staff (a reminder, a warning): delivered like letters, once."""

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True)
    notice_key: str = Field(unique=True, index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    kind: str  # names its template: templates/email/notice_<kind>.txt
    recipient: str
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Decision(SQLModel, table=True):
    """A draft decision and, once the decision maker signs it, the delegated decision.

    Each amendment is a new version; the signed version never changes again.
    """

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    version: int
    status: DecisionStatus = Field(default=DecisionStatus.draft, index=True)
    outcome: Outcome
    amount: int | None = None  # granted amount; None unless granted or partly granted
    conditions: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    reasons: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))  # the wording
    findings: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))  # Answer
    decisive: str = ""  # the decisive circumstances (FL 32 §): for a cut, why
    reply_assessment: str = ""  # what was made of the applicant's comments (FL 25 §)
    other_funding: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    final_report_due: date | None = None
    presenting_officer: str  # föredragande
    participants: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # FL 31 §
    prepared_by: str
    prepared_at: datetime = Field(default_factory=utcnow)
    comment: str = ""  # the decision maker's, when sending the draft back
    decided_by: str | None = None
    decided_at: datetime | None = None

    case: Case = Relationship()


class Communication(SQLModel, table=True):
    """Kommunicering (FL 25 §): material sent to the applicant before the decision."""

    __tablename__ = "communications"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    number: int
    draft_version: int | None = None  # the draft whose content was communicated
    deadline: date
    sent_by: str
    sent_at: datetime = Field(default_factory=utcnow)
    replied_at: datetime | None = None
    reply_has_comments: bool | None = None  # False: "we have no comments"
    expired_at: datetime | None = None

    case: Case = Relationship()


class Material(SQLModel, table=True):
    """Material from others than the applicant that a draft rests on (FL 25 §): a statement
    (what someone said, written down) or a document, with its source; registered as such so
    that a decision never rests on it before the applicant has been given it to comment on
    (`communication_number`: the communication that did)."""

    __tablename__ = "case_material"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    source: str  # who it comes from: "Örebro kommun, fritidsförvaltningen"
    text: str  # the statement, or what the document says in short
    document_id: int | None = Field(default=None, foreign_key="documents.id")
    added_by: str
    added_at: datetime = Field(default_factory=utcnow)
    communication_number: int | None = None  # None: not yet put to the applicant

    case: Case = Relationship()
    document: Document | None = Relationship()


class CommunityTalk(SQLModel, table=True):
    """A Samhällssamtal of the Partnership, where funded projects present their results."""

    __tablename__ = "community_talks"

    id: int | None = Field(default=None, primary_key=True)
    held_on: date = Field(index=True)
    starts_at: str = "14:00"  # time of day, Swedish time
    ends_at: str = ""  # time of day, Swedish time; "" for a talk registered before it was kept
    theme: str
    theme_en: str = ""  # the theme as English letters give it
    venue: str
    address: str = ""  # the street address, so that people find the venue (and calendars map it)
    registered_by: str
    registered_at: datetime = Field(default_factory=utcnow)


class Reporting(SQLModel, table=True):
    """A funded project's reporting: its Community Talk and its final report (slutrapport)."""

    __tablename__ = "reporting"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    community_talk_id: int = Field(foreign_key="community_talks.id")
    invited_at: datetime = Field(default_factory=utcnow)
    final_report_due: date | None = None
    presented_on: date | None = None
    final_report_received_at: datetime | None = None

    case: Case = Relationship()
    community_talk: CommunityTalk = Relationship()


class TalkAnswer(SQLModel, table=True):
    """A funded project's answer to its Community Talk invitation, through its link: which
    Talk it presents at, who presents, and how many come. Changed until the reply-by date;
    each change is in the audit trail."""

    __tablename__ = "talk_answers"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    community_talk_id: int = Field(foreign_key="community_talks.id", index=True)
    presenters: str  # the name(s) of who presents, as the grantee wrote them
    attendees: int  # how many come from the project, presenters included
    answered_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None


class TalkAttendance(SQLModel, table=True):
    """What the case officer registered after the Talk: how many came from the project and
    who presented (nobody, if it did not present)."""

    __tablename__ = "talk_attendance"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    community_talk_id: int = Field(foreign_key="community_talks.id", index=True)
    came: int
    presented_by: str = ""  # "" when the project did not present
    registered_by: str
    registered_at: datetime = Field(default_factory=utcnow)


class FinalReportStatus(StrEnum):
    draft = "draft"  # saved by the grantee, not yet submitted
    submitted = "submitted"  # waiting for the case officer
    more_requested = "more_requested"  # sent back with a reason; the grantee edits it again
    approved = "approved"


class FinalReport(SQLModel, table=True):
    """A funded project's final report (slutrapport) through the grantee's link, or on paper
    registered by the case officer: the answers as last saved, and every submission and every
    request for more, kept in `rounds` (models.final_reports)."""

    __tablename__ = "final_reports"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    status: FinalReportStatus = Field(default=FinalReportStatus.draft, index=True)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    saved_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None  # the latest submission
    document_id: int | None = Field(default=None, foreign_key="documents.id")  # a paper report
    more_reason: str = ""  # the latest request for more
    more_requested_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    # Each submission ({number, submitted_at, answers, by}) and each request for more
    # ({number, reason, by, at}), in order: nothing the grantee sent is lost.
    rounds: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )

    case: Case = Relationship()


class FollowUp(SQLModel, table=True):
    """A funded project's answer to the follow-up a year after it ended, through its link:
    the further funding won since the final report, whether the activity continues and who
    took it over (models.follow_ups). Corrected until its deadline; each change is in the
    audit trail."""

    __tablename__ = "follow_ups"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    # Rows {funder, amount, date}: won since the final report.
    further_funding: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    continues: bool
    taken_over_by: str = ""  # an organisation, or "" when the project carries on itself
    text: str = ""
    answered_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime | None = None

    case: Case = Relationship()


class Acceptance(SQLModel, table=True):
    """The grantee's acceptance of the grant's conditions: no payment before it. Given through
    the grantee's link, or on paper and registered by the case officer."""

    __tablename__ = "acceptances"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    signatory_name: str  # the person entitled to sign for the organisation
    signatory_role: str  # "ordförande", "firmatecknare", …
    accepted_at: datetime = Field(default_factory=utcnow)
    registered_by: str | None = None  # the case officer, for a paper acceptance
    document_id: int | None = Field(default=None, foreign_key="documents.id")  # the paper
    # The organisation's e-mail when it accepted: a later account change is told there too,
    # should the e-mail on the case have been changed since (models.acceptance).
    email: str | None = None

    case: Case = Relationship()


class PayeeAccount(SQLModel, table=True):
    """The account a case's grant is paid to. Each change is a new row, the newest is the
    case's account; a change after the acceptance holds every unpaid order until a second
    person confirms it with a note on how it was verified (the fraud that costs most)."""

    __tablename__ = "payee_accounts"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: AccountKind
    clearing: str | None = None  # a bank account's clearing number, digits only
    number: str  # digits only, check digit verified (models.identifiers)
    given_by: str  # the applicant (through its link) or the person who registered it
    given_at: datetime = Field(default_factory=utcnow)
    needs_confirmation: bool = False  # a change after the acceptance
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    verification: str = ""  # how the second person verified the change

    case: Case = Relationship()


class PaymentFile(SQLModel, table=True):
    """A pain.001 file sent to the bank, kept as made: it is part of the record."""

    __tablename__ = "payment_files"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)  # the file's MsgId, unique for the bank
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)
    payment_count: int
    total: int  # kronor
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PaymentOrder(SQLModel, table=True):
    """One instalment of a grant to pay (utbetalningsorder), from the call's payment plan."""

    __tablename__ = "payment_orders"
    __table_args__ = (UniqueConstraint("case_id", "instalment"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    instalment: int  # 1, 2, … in the call's payment plan
    amount: int  # kronor
    status: PaymentStatus = Field(default=PaymentStatus.prepared, index=True)
    account_id: int | None = Field(default=None, foreign_key="payee_accounts.id")
    end_to_end_id: str = Field(unique=True)  # carries the case reference to the bank and back
    prepared_by: str
    prepared_at: datetime = Field(default_factory=utcnow)
    attested_by: str | None = None
    attested_at: datetime | None = None
    payment_file_id: int | None = Field(default=None, foreign_key="payment_files.id")
    paid_on: date | None = None  # the bank's booking date
    registered_by: str | None = None  # who registered it paid or rejected ("bank" for a report)
    bank_reason: str = ""  # the bank's reason for a rejection, or the reason for cancelling

    case: Case = Relationship()
    account: PayeeAccount | None = Relationship()


class BankReport(SQLModel, table=True):
    """A report the bank sent (pain.002 status report, camt.054 notification), kept as
    imported; importing the same message again changes nothing."""

    __tablename__ = "bank_reports"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # "pain.002" or "camt.054"
    message_id: str = Field(unique=True)
    imported_by: str
    imported_at: datetime = Field(default_factory=utcnow)
    sha256: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RepaymentClaim(SQLModel, table=True):
    """Återkrav: money unused or misused, claimed back by a decision of its own."""

    __tablename__ = "repayment_claims"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    amount: int  # kronor
    reason: str
    status: RepaymentStatus = Field(default=RepaymentStatus.drafted, index=True)
    ocr_reference: str = Field(unique=True)  # the payment reference, mod 10 check digit
    drafted_by: str
    drafted_at: datetime = Field(default_factory=utcnow)
    communication_deadline: date | None = None
    communicated_at: datetime | None = None
    reply: str = ""  # the grantee's comments on the communicated claim
    # The claim's serial on its case (letters and the command line name it by it), whether
    # the money was unused or misused (`reason` says how, in words), when the grantee's
    # comments came, what the decision maker made of them, why a claim was withdrawn, and
    # what has been paid back so far (the rest is owed).
    number: int = 1
    reason_kind: str = "unused"  # or "misused"
    replied_at: datetime | None = None
    reply_assessment: str = ""
    withdrawal_reason: str = ""
    paid_amount: int = 0
    decided_by: str | None = None
    decided_at: datetime | None = None
    due_on: date | None = None  # a working day
    reminded_at: datetime | None = None
    settled_on: date | None = None
    settled_by: str | None = None  # "bank" for a camt.054 credit

    case: Case = Relationship()


class AppealRuling(StrEnum):
    """What the administrative court ruled on a laglighetsprövning."""

    upheld = "upheld"  # the appeal rejected: the decision stands
    annulled = "annulled"  # upphävs: the decision is void and the matter is decided again


class NoticeBoardDay(SQLModel, table=True):
    """The day the notice board (anslagstavla) announced that the minutes reporting the
    delegated decisions signed up to `covers_until` were put up: the day their time for
    appeal (13 kap. kommunallagen, three weeks) starts (models.closing)."""

    __tablename__ = "notice_board_days"

    id: int | None = Field(default=None, primary_key=True)
    announced_on: date
    covers_until: date = Field(unique=True)  # the decisions signed up to and including it
    registered_by: str
    registered_at: datetime = Field(default_factory=utcnow)


class Appeal(SQLModel, table=True):
    """A laglighetsprövning of a case's decision, registered once the court tells of it: it
    holds the case open until the court's ruling is registered (models.closing)."""

    __tablename__ = "appeals"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    decision_id: int = Field(foreign_key="decisions.id")  # the decision appealed
    number: int  # its serial on the case
    appellant: str
    received_on: date  # the day the appeal came in
    court: str
    court_case_number: str
    registered_by: str
    registered_at: datetime = Field(default_factory=utcnow)
    ruling: AppealRuling | None = None
    ruled_on: date | None = None
    ruling_registered_by: str | None = None

    case: Case = Relationship()


class CaseReferenceCounter(SQLModel, table=True):
    """Last serial handed out per year and prefix: the register's running number."""

    __tablename__ = "case_reference_counters"

    year: int = Field(primary_key=True)
    prefix: str = Field(primary_key=True)
    last_serial: int


class CaseLook(SQLModel, table=True):
    """When a person last looked at a case, and how far its audit trail went then: what
    came after it is new to them (models.looks)."""

    __tablename__ = "case_looks"
    __table_args__ = (UniqueConstraint("person_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="people.id")
    case_id: int = Field(foreign_key="cases.id", index=True)
    looked_at: datetime = Field(default_factory=utcnow)
    last_event_id: int  # the case's newest audit event as the person saw the case


@event.listens_for(Decision, "before_update")
@event.listens_for(Decision, "before_delete")
def _signed_decisions_are_final(_mapper: Any, connection: Any, target: Decision) -> None:
    """A signed decision is final: no column of it may change, and it may not go."""
    stored = connection.execute(
        Decision.__table__.select().where(Decision.__table__.c.id == target.id)
    ).first()
    if stored is not None and stored.status == DecisionStatus.signed:
        raise PermissionError(
            f"decision {target.id} (version {stored.version}) is signed and cannot be changed"
        )


def _rendered(connection: Any, letter: Letter) -> Any:
    """The letter's stored row if it already has its PDF, else None."""
    table = Letter.__table__
    stored = connection.execute(table.select().where(table.c.id == letter.id)).first()
    return stored if stored is not None and stored.pdf is not None else None


def _refuse_letter_change(stored: Any) -> None:
    raise PermissionError(
        f"letter {stored.letter_key} (SHA-256 {stored.sha256[:16]}…) is a record of the case "
        "and cannot be changed or removed"
    )


@event.listens_for(Letter, "before_update")
def _rendered_letters_keep_their_pdf(_mapper: Any, connection: Any, target: Letter) -> None:
    """Once a letter has its PDF, that PDF is the record (delivery bookkeeping may change).
    An update that sets neither the PDF nor its hash cannot change them: it is not read back
    (the stored row carries the PDF, tens of kilobytes, on every delivery's bookkeeping)."""
    state = inspect(target)
    if not (state.attrs.pdf.history.has_changes() or state.attrs.sha256.history.has_changes()):
        return
    stored = _rendered(connection, target)
    if stored is not None and (target.pdf != stored.pdf or target.sha256 != stored.sha256):
        _refuse_letter_change(stored)


@event.listens_for(Letter, "before_delete")
def _rendered_letters_stay(_mapper: Any, connection: Any, target: Letter) -> None:
    stored = _rendered(connection, target)
    if stored is not None:
        _refuse_letter_change(stored)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise PermissionError(f"audit event {target.id} is part of the record and cannot change")
