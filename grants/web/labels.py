"""What the office calls the domain's codes (states, outcomes, roles, …), in both languages.

One table per kind of code (the same word, "closed", is a state and an outcome); the
catalog translates each label where it is shown. The basic requirements are named by the
domain's vocabulary instead, in both languages, as in the letters.
"""

from enum import StrEnum

from grants.web.i18n import N_, _, current_language
from models.delivery import waiting
from models.states import CaseState
from models.tables import (
    AccountKind,
    Answer,
    AppealRuling,
    ConflictGround,
    Criterion,
    DecisionStatus,
    DeliveryState,
    FormalRequirement,
    Language,
    Letter,
    MeetingStatus,
    Notice,
    OnExpiry,
    Outcome,
    PaymentStatus,
    Recommendation,
    Role,
    TaskStatus,
)
from models.tasks import TaskKind
from models.vocabulary import criterion_name, formal_name

LABELS: dict[type[StrEnum], dict[str, str]] = {}
LABELS[CaseState] = {
    CaseState.received: N_("Received"),
    CaseState.awaiting_supplement: N_("Awaiting supplement"),
    CaseState.in_review: N_("In review"),
    CaseState.applicant_meeting: N_("Applicant meeting"),
    CaseState.drafting_decision: N_("Drafting the decision"),
    CaseState.communication: N_("Communicated, awaiting reply"),
    CaseState.awaiting_decision: N_("With the decision maker"),
    CaseState.decided: N_("Decided"),
    CaseState.reporting: N_("Reporting"),
    CaseState.closed: N_("Closed"),
}
LABELS[Outcome] = {
    Outcome.granted: N_("Granted"),
    Outcome.partly_granted: N_("Partly granted"),
    Outcome.refused: N_("Refused"),
    Outcome.dismissed: N_("Dismissed"),
    Outcome.closed: N_("Closed (withdrawn)"),
}
LABELS[AppealRuling] = {
    AppealRuling.upheld: N_("Upheld"),
    AppealRuling.annulled: N_("Annulled"),
}
LABELS[Recommendation] = {
    Recommendation.granted: N_("Granted"),
    Recommendation.partly_granted: N_("Partly granted"),
    Recommendation.refused: N_("Refused"),
    Recommendation.needs_supplement: N_("Needs a supplement"),
}
LABELS[Role] = {
    Role.case_officer: N_("Case officer"),
    Role.advisor: N_("Advisor"),
    Role.decision_maker: N_("Decision maker"),
    Role.finance: N_("Finance"),
    Role.system: N_("The system"),
    Role.applicant: N_("The applicant"),
    Role.organiser: N_("Organiser of the Community Talks"),
    Role.committee: N_("Member of the committee"),
    Role.finance: N_("Finance"),
}
LABELS[AccountKind] = {
    AccountKind.bankgiro: N_("Bankgiro"),
    AccountKind.plusgiro: N_("Plusgiro"),
    AccountKind.bank_account: N_("Bank account"),
}
LABELS[PaymentStatus] = {
    PaymentStatus.prepared: N_("Prepared, to attest"),
    PaymentStatus.attested: N_("Attested"),
    PaymentStatus.exported: N_("Sent to the bank"),
    PaymentStatus.paid: N_("Paid"),
    PaymentStatus.rejected: N_("Rejected by the bank"),
    PaymentStatus.cancelled: N_("Cancelled"),
}
LABELS[Answer] = {
    Answer.met: N_("Met"),
    Answer.not_met: N_("Not met"),
    Answer.unclear: N_("Unclear"),
}
LABELS[OnExpiry] = {
    OnExpiry.examine: N_("Examine the case as it stands"),
    OnExpiry.dismiss: N_("Propose dismissal"),
}
LABELS[ConflictGround] = {
    ConflictGround.none: N_("No conflict of interest"),
    ConflictGround.own_organisation: N_("The matter concerns my own organisation"),
    ConflictGround.close_relative: N_("The matter concerns a close relative"),
    ConflictGround.earlier_involvement: N_("I have been involved earlier (e.g. helped write it)"),
    ConflictGround.other: N_("Another circumstance that undermines confidence in my impartiality"),
}
LABELS[Language] = {
    Language.sv: N_("Swedish"),
    Language.en: N_("English"),
}
LABELS[TaskStatus] = {
    TaskStatus.open: N_("Open"),
    TaskStatus.conflicted: N_("Conflict of interest"),
    TaskStatus.submitted: N_("Submitted"),
}
LABELS[MeetingStatus] = {
    MeetingStatus.booked: N_("Booked"),
    MeetingStatus.rebooked: N_("Rebooked"),
    MeetingStatus.held: N_("Held"),
    MeetingStatus.skipped: N_("Cancelled"),  # a booked meeting called off (skipped or not)
}
LABELS[DecisionStatus] = {
    DecisionStatus.draft: N_("Draft"),
    DecisionStatus.sent_back: N_("Sent back"),
    DecisionStatus.superseded: N_("Replaced by a later version"),
    DecisionStatus.signed: N_("Signed"),
}
LABELS[DeliveryState] = {
    DeliveryState.to_render: N_("Being made"),
    DeliveryState.queued: N_("Queued"),
    DeliveryState.sending: N_("Being sent"),
    DeliveryState.sent: N_("Sent"),
    DeliveryState.failed: N_("Not delivered: refused for good"),
}
LABELS[TaskKind] = {
    TaskKind.declare: N_("Declare any conflict of interest, then review"),
    TaskKind.review: N_("Review"),
    TaskKind.checklist: N_("Eligibility checklist"),
    TaskKind.await_supplement: N_("Waiting for the supplement"),
    TaskKind.meeting: N_("Book, document or skip the applicant meeting"),
    TaskKind.draft: N_("Draft decision"),
    TaskKind.await_reply: N_("Waiting for the applicant's reply"),
    TaskKind.decide: N_("Decide the draft"),
    TaskKind.old_case: N_(
        "Undecided for six months: the applicant may ask for a decision, which must then "
        "come within four weeks (FL 12 §)"
    ),
    TaskKind.too_few_reviewers: N_(
        "Too few reviewers without a conflict of interest: name a substitute or go on with fewer"
    ),
    TaskKind.reporting: N_("Record the presentation and the final report"),
    TaskKind.no_case_officer: N_(
        "Every case officer declared a conflict of interest: add a case officer under People"
    ),
    TaskKind.payment_rejected: N_(
        "The bank rejected a payment: check the account with the grantee and prepare it again"
    ),
    TaskKind.decide_repayment: N_("Decide the repayment claim"),
}


def label(code: StrEnum | None) -> str:
    """The label of a code in the current language; a basic requirement by the domain's own
    name for it (models.vocabulary), the one its letters use."""
    if code is None:
        return ""
    if isinstance(code, Criterion):
        return criterion_name(code, current_language())
    if isinstance(code, FormalRequirement):
        return formal_name(code, current_language())
    return _(LABELS[type(code)][code])


def delivery_label(item: Letter | Notice) -> str:
    """Where a letter or notice stands: one waiting for the mail server is said to wait,
    not to have failed."""
    if waiting(item):
        return _("Waiting for the mail server")
    return label(item.delivery_state)


# What intake let through but the case officer must follow up (models.validation.WARNINGS).
INTAKE_WARNINGS = {
    "no_organisation_number": N_("No organisation number yet: needed before payment"),
    "no_payment_account": N_("No bankgiro or plusgiro: needed before payment"),
    "no_partners": N_("No partners named (basic requirement 4: anchored with partners)"),
    "no_de_minimis_declaration": N_(
        "Economic activity and no declaration of other de minimis aid: ask for it before a "
        "grant is decided"
    ),
}


def warning_label(code: str) -> str:
    """An intake warning, by its code on the case, in the current language."""
    return _(INTAKE_WARNINGS[code])


FORMAL_CHECKS = {
    "civil-society organisation": N_("Civil-society organisation"),
    "in Örebro county": N_("In Örebro county"),
    "organisation number": N_("Organisation number"),
    "amount within the call's range": N_("Amount within the call's range"),
    "co-financing at least the amount": N_("Co-financing at least the amount"),
    "received while the call was open": N_("Received while the call was open"),
    "payment account": N_("Payment account"),
}


def check_label(check: str) -> str:
    """A formal check's name (models.checklist.formal_checks) in the current language."""
    return _(FORMAL_CHECKS[check]) if check in FORMAL_CHECKS else check


ACTIONS = {
    "registered": N_("Application registered"),
    "letter_created": N_("Letter made"),
    "letter_sent": N_("Letter sent"),
    "letter_delivery_failed": N_("Letter not taken by the mail server yet; tried again"),
    "letter_undeliverable": N_("Letter not delivered: refused for good"),
    "letter_sent_again": N_("Letter sent again"),
    "notice_sent": N_("Notice to staff sent"),
    "notice_delivery_failed": N_("Notice to staff not taken by the mail server yet; tried again"),
    "notice_undeliverable": N_("Notice to staff not delivered: refused for good"),
    "checklist_all_met": N_("Checklist: all requirements met"),
    "checklist_unclear": N_("Checklist: something unclear"),
    "checklist_not_eligible": N_("Checklist: a requirement not met"),
    "review_tasks_created": N_("Review tasks created"),
    "reviewer_assigned": N_("Reviewer assigned"),
    "substitute_reviewer": N_("Substitute reviewer from outside the advisory group"),
    "reviews_fewer_than_quorum": N_("Goes on with fewer reviews than the quorum"),
    "review_reminder_ordered": N_("Review reminder"),
    "too_few_reviewers": N_("Too few reviewers without a conflict of interest"),
    "no_conflict_declared": N_("No conflict of interest declared"),
    "conflict_declared": N_("Conflict of interest declared"),
    "review_submitted": N_("Review submitted"),
    "reviews_complete": N_("Reviews complete"),
    "supplement_requested": N_("Supplement requested"),
    "supplement_registered": N_("Supplement registered"),
    "supplement_reminder_ordered": N_("Reminder of the supplement to the applicant"),
    "supplement_deadline_passed_dismissal_proposed": N_(
        "Supplement deadline passed: dismissal proposed"
    ),
    "applicant_message_filed": N_("The applicant's message filed"),
    "supplement_expired": N_("Supplement deadline passed"),
    "meeting_booked": N_("Meeting booked"),
    "meeting_documented": N_("Meeting documented in a file note"),
    "meeting_cancelled": N_("Meeting cancelled"),
    "meeting_skipped": N_("Meeting skipped"),
    "draft_decision_prepared": N_("Draft decision prepared"),
    "draft_submitted": N_("Draft submitted to the decision maker"),
    "draft_amended": N_("Draft amended by the decision maker"),
    "draft_sent_back": N_("Draft sent back"),
    "communication_sent": N_("Material communicated to the applicant (FL 25 §)"),
    "material_added": N_("Material from others registered (FL 25 §)"),
    "nothing_new_from_others": N_("Recorded: the changed draft adds nothing new from others"),
    "communication_reply": N_("The applicant's reply registered"),
    "communication_deadline_passed": N_("Reply deadline passed"),
    "decision_signed": N_("Decision signed"),
    "invited_to_community_talk": N_("Invited to a Community Talk"),
    "presented_at_community_talk": N_("Presented at a Community Talk"),
    "talk_answered": N_("Answered the Community Talk invitation"),
    "talk_answer_changed": N_("Changed the answer to the Community Talk invitation"),
    "talk_attendance_registered": N_("Attendance at the Community Talk registered"),
    "final_report_registered": N_("Final report registered"),
    "final_report_saved": N_("Final report saved by the grantee"),
    "final_report_submitted": N_("Final report submitted"),
    "final_report_more_requested": N_("More asked for in the final report"),
    "final_report_approved": N_("Final report approved"),
    "final_report_reminded": N_("Reminder of the final report"),
    "follow_up_sent": N_("Follow-up a year after the project sent"),
    "follow_up_answered": N_("Follow-up answered by the grantee"),
    "follow_up_changed": N_("Follow-up answer corrected by the grantee"),
    "case_closed": N_("Case closed"),
    "appeal_registered": N_("Appeal (laglighetsprövning) registered"),
    "appeal_ruled": N_("The court upheld the decision"),
    "decision_annulled": N_("The court annulled the decision: to be decided again"),
    "application_withdrawn": N_("The applicant withdrew the application"),
    "delay_notice_ordered": N_("Delay notice to the applicant (FL 11 §)"),
    "case_facts_corrected": N_("The applicant's contact or payment facts corrected"),
    "state_aid_recorded": N_("Economic activity or declaration of other de minimis aid recorded"),
    "payment_exported": N_("Payment sent to the bank in a payment file"),
    "payment_rejected": N_("The bank rejected the payment"),
    "payment_paid": N_("The bank paid the payment"),
    "conditions_accepted": N_("The grant's conditions accepted and the account given"),
    "payee_account_changed": N_("The account to pay to changed: payments held"),
    "payee_account_confirmed": N_("The changed account confirmed by a second person"),
    "payment_order_prepared": N_("Payment order prepared"),
    "payment_order_attested": N_("Payment order attested"),
    "payment_order_cancelled": N_("Payment order cancelled"),
    "payment_registered_paid": N_("Payment registered as paid"),
    "repayment_drafted": N_("Repayment claim drafted"),
    "repayment_communicated": N_("Repayment claim sent to the grantee for comments (FL 25 §)"),
    "repayment_reply": N_("The grantee's reply to the repayment claim registered"),
    "repayment_decided": N_("Repayment decided"),
    "repayment_withdrawn": N_("Repayment claim withdrawn"),
    "repayment_paid": N_("Repayment registered as paid"),
    "repayment_reminder_ordered": N_("Reminder of an overdue repayment"),
}


def action_label(code: str) -> str:
    """What an audit event's action means, in the current language; a new one as written."""
    return _(ACTIONS[code]) if code in ACTIONS else code.replace("_", " ")


# What came in, by the kind the domain files it under (models.supplements.file_document).
DOCUMENT_KINDS = {
    "supplement": N_("Supplement"),
    "communication_reply": N_("Reply to the communication (FL 25 §)"),
    "withdrawal": N_("Withdrawal"),
    "material": N_("Material from others (FL 25 §)"),
    "final_report": N_("Final report"),
    "acceptance": N_("Acceptance of the conditions, on paper"),
    "repayment_reply": N_("Reply to a repayment claim (FL 25 §)"),
}


def document_kind_label(kind: str) -> str:
    """What kind of document came in, in the current language; a new kind as written."""
    return _(DOCUMENT_KINDS[kind]) if kind in DOCUMENT_KINDS else kind.replace("_", " ")


# What a notice e-mailed to staff is about (models.tables.Notice.kind), as the task page
# lists them; a reply and a supplement are one kind, told apart by what was asked.
NOTICE_KINDS = {
    "supplement": N_("The supplement came in"),
    "communication": N_("The reply to the communication came in"),
    "repayment": N_("The reply to a repayment claim came in"),
    "audit_anchor": N_("The audit trail's anchor"),
    "deadline_held": N_("A deadline waits for its letter to arrive"),
    "integrity_mismatch": N_("Changes found in the case database"),
    "letter_undeliverable": N_("A letter could not be delivered"),
    "letter_waiting": N_("A letter waits for the mail server"),
    "review_overdue": N_("Reminder: a review is overdue"),
    "supplement_expired": N_("The supplement did not come in time"),
    "too_few_reviewers": N_("Too few reviewers without a conflict of interest"),
    "account_to_confirm": N_("A changed account waits for a second person to confirm it"),
    "final_report_submitted": N_("A final report came in"),
}


def notice_label(notice: Notice) -> str:
    """What a notice to staff is about, in the current language; a new kind as written."""
    kind = notice.data.get("asked", "") if notice.kind == "applicant_answer" else notice.kind
    return _(NOTICE_KINDS[kind]) if kind in NOTICE_KINDS else kind.replace("_", " ")
