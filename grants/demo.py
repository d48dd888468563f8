"""`grants demo`: the eight seed projects through the whole path, with scripted people.

Each scripted person looks at a case's state and takes the step it calls for, through the
same domain functions the command line uses, until nothing is left for people to do;
the flows send what each step ordered and the sweep does what the calendar makes due.
Because every step is chosen by the case's state, running the demo again, or after a
crash, takes up where it stopped and never does a step twice.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from grants.settings import Settings
from models import clock
from models.access import case_for
from models.cases import list_cases
from models.checklist import Finding, complete_checklist
from models.communication import communicate, register_reply
from models.community_talks import invitation_due, register_talk, upcoming_talks
from models.db import transaction
from models.decisions import (
    adverse,
    communicated,
    latest,
    prepare_draft,
    sign,
    submit_for_decision,
)
from models.meetings import book_meeting, document_meeting, skip_meeting
from models.reviews import declare_conflict, submit_review
from models.rules import Rules
from models.states import CaseState
from models.supplements import register_supplement
from models.tables import (
    STOCKHOLM,
    Answer,
    Case,
    Communication,
    ConflictGround,
    Criterion,
    DecisionStatus,
    Meeting,
    MeetingStatus,
    OnExpiry,
    Person,
    Recommendation,
    ReviewTask,
    SupplementRequest,
    TaskStatus,
    local_time,
)
from models.withdrawal import register_withdrawal
from models.working_days import add_working_days, next_working_day

OFFICER = "maria.lindqvist@regionorebrolan.example.se"
COOMPANION = "johan.ek@coompanion.example.se"
ACTIVA = "lena.holm@activa.example.se"
DECISION_MAKER = "karin.sjoberg@regionorebrolan.example.se"
ARVSFONDEN = (
    "Allmänna arvsfonden: stöd till nya verksamheter för barn och unga; "
    "rådgivarna hjälper gärna till med ansökan."
)
TALKS = (  # the Partnership's two talks a year
    (
        date(2028, 3, 16),
        time(14),
        "Skateboard och odling – kan det vara sociala innovationer?",
        "Skateboarding and growing vegetables – can they be social innovations?",
        "Kulturhuset, Örebro",
    ),
    (
        date(2028, 9, 21),
        time(13, 30),
        "Tillsammans möter vi samhällsutmaningar",
        "Meeting society's challenges together",
        "Örebro slott",
    ),
)


@dataclass(frozen=True)
class Script:
    """What the scripted people do with one application."""

    recommendation: Recommendation = Recommendation.granted
    amount: int | None = None  # for partly_granted
    unclear: dict[Criterion, str] = field(default_factory=dict)  # → a supplement request
    supplement: str = ""
    conflicts: dict[str, tuple[ConflictGround, str]] = field(default_factory=dict)
    other_funding: tuple[str, ...] = ()
    meeting: time | None = None  # the time of day it is booked for; None: skipped
    reasons: dict[Criterion, str] = field(default_factory=dict)  # the reviewers'
    # The case officer's own wording of the decision, per requirement (FL 32 §).
    decision: dict[Criterion, str] = field(default_factory=dict)
    not_met: tuple[str, ...] = ()
    decisive: str = ""
    # With a reason: the supplement request proposes dismissal if unanswered (FL 20 §).
    dismiss_because: str = ""
    withdrawal: str = ""  # the applicant withdraws at once; the decision's reason
    # The applicant's reply to a communication: (text, has comments), or None: no reply.
    reply: tuple[str, bool] | None = (
        "Vi har tagit del av underlaget och har inga synpunkter. / Styrelsen",
        False,
    )
    reply_assessment: str = ""


SCRIPTS = {
    "SI-2026-0101": Script(meeting=time(10)),
    "SI-2026-0102": Script(
        Recommendation.partly_granted,
        40_000,
        conflicts={
            ACTIVA: (
                ConflictGround.own_organisation,
                "Stiftelsen Activa är samarbetspartner i projektet.",
            )
        },
        decisive="Budgeten tar upp 12 000 kr för inköp av utrustning. Rådgivningsgruppen "
        "bedömer att 7 000 kr räcker, eftersom föreningen kan låna verktyg av kommunens "
        "fritidsförvaltning; posten sätts därför ned med 5 000 kr.",
    ),
    "SI-2026-0103": Script(
        unclear={
            Criterion.anchored_with_partners: "Skicka ett intyg från Nora kommun om "
            "lokalen för lånebiblioteket."
        },
        supplement="Intyg: Nora kommun upplåter lokalen på Prästgatan 7 under projekttiden. "
        "/ Anna Berg, fritidschef",
    ),
    "SI-2026-0104": Script(
        Recommendation.refused,
        other_funding=(ARVSFONDEN,),
        reasons={
            Criterion.innovative: "Verksamheten finns redan i liknande form i Vivalla "
            "genom fritidsgården; ansökan visar inte vad som är nytt.",
            Criterion.new_locally: "Fritidsgården i Vivalla har redan kvällsverksamhet "
            "för killar i samma ålder.",
        },
        decision={
            Criterion.innovative: "Enligt rådgivningsgruppen bedriver fritidsgården i Vivalla "
            "redan en liknande verksamhet för killar i samma ålder. Ansökan beskriver inte vad "
            "projektet gör annorlunda eller vad som ska leva vidare när det är slut.",
            Criterion.new_locally: "Av samma skäl är projektet inte nytt i Vivalla: en liknande "
            "verksamhet finns redan där.",
        },
        not_met=("innovative", "new_locally"),
        decisive="Projektet uppfyller inte kraven på att vara nyskapande och nytt lokalt, "
        "eftersom en liknande verksamhet redan finns i Vivalla.",
        reply=(
            "Fritidsgården har öppet två kvällar i veckan för alla åldrar; vårt projekt "
            "riktar sig till killar 10–13 år och deras föräldrar. / Styrelsen",
            True,
        ),
        reply_assessment="Föreningen framhåller att projektet riktar sig till yngre killar och "
        "deras föräldrar. Fritidsgårdens verksamhet omfattar enligt kommunen redan "
        "föräldraträffar för samma åldersgrupp. Synpunkterna ändrar därför inte bedömningen.",
    ),
    "SI-2026-0105": Script(
        conflicts={
            COOMPANION: (
                ConflictGround.own_organisation,
                "Coompanion Mälardalen är samarbetspartner.",
            )
        }
    ),
    "SI-2026-0106": Script(meeting=time(13, 30)),
    "SI-2026-0107": Script(
        Recommendation.partly_granted,
        25_000,
        decisive="Budgeten tar upp 5 000 kr för hyra av lokal, men kommunens familjecentral "
        "upplåter lokalen utan kostnad enligt ansökan. Den posten stryks.",
        reply=None,  # no reply by the deadline: the draft goes on without one
    ),
    "SI-2026-0108": Script(
        reasons={
            Criterion.benefit_to_society: "Cricket brings together newly arrived young people "
            "and long-time residents of Karlskoga.",
            Criterion.innovative: "Coaching training for the young players makes the club "
            "able to carry on after the project.",
            Criterion.new_locally: "There is no cricket club for young people in the "
            "municipality today.",
            Criterion.anchored_with_partners: "The municipality and the school have "
            "confirmed their support.",
        },
        reply=None,
    ),
    "SI-2026-0109": Script(
        unclear={
            Criterion.anchored_with_partners: "Skicka ett styrelseprotokoll eller en fullmakt "
            "som visar att ansökan görs av föreningen. Ansökan är undertecknad av en person som "
            "inte finns med bland föreningens firmatecknare."
        },
        dismiss_because="Utan protokoll eller fullmakt vet vi inte att ansökan kommer från "
        "föreningen. Då finns det ingen ansökan från föreningen att pröva.",
        reply=None,
    ),
    "SI-2026-0110": Script(
        withdrawal="Föreningen har skriftligen meddelat att den återkallar ansökan, eftersom "
        "projektet har fått finansiering från Allmänna arvsfonden. Ärendet avskrivs därför "
        "utan prövning.",
    ),
}


@dataclass(frozen=True)
class Round:
    """What one round of the demo did: for the person watching it run."""

    number: int
    day: date  # on the simulated clock
    steps: int  # taken by the scripted people
    letters: int  # sent, by the steps' follow-up and by the sweep
    decided: int  # cases with nothing left to decide (decided, reporting or closed)
    cases: int


def run(settings: Settings, report: Callable[[Round], object]) -> None:
    """Act on every scripted case until nothing is left for the calendar or the people,
    on the simulated clock (models.clock) the caller started: a round a working day, and
    when nobody acts, straight on to when the calendar next moves a case. Each round is
    reported as it ends."""
    from flows.assessment import sweep
    from flows.letters import send_letters
    from grants.embedded import run_flow

    rules = Rules.from_config(settings.file)
    with transaction(settings.db_url) as session:
        _register_talks(session)
    for number in range(1, MAX_ROUNDS + 1):  # people act, letters go, the sweep does what is due
        day = clock.today()
        acted = sum(_act(settings, rules, submission_id) for submission_id in SCRIPTS)
        sent = run_flow(send_letters)["sent"]
        swept = run_flow(sweep)
        report(Round(number, day, acted, sent + swept["sent"], *_decided(settings)))
        if acted or any(swept[k] for k in ("expired", "communications_expired")):
            clock.move_to(next_morning())  # someone has a step to take tomorrow
            continue
        waiting_for = _next_due(settings)
        if waiting_for is None:
            return
        clock.move_to(waiting_for)


MAX_ROUNDS = 60


def next_morning() -> datetime:
    """09.00 on the next working day: people act once a working day."""
    day = next_working_day(clock.today() + timedelta(days=1))
    return datetime.combine(day, time(9), tzinfo=STOCKHOLM)


DECIDED = (CaseState.decided, CaseState.reporting, CaseState.closed)


def _decided(settings: Settings) -> tuple[int, int]:
    """How many cases are decided (or closed), of how many."""
    with transaction(settings.db_url) as session:
        states = [case.state for case in list_cases(session)]
    return sum(state in DECIDED for state in states), len(states)


def _next_due(settings: Settings) -> datetime | None:
    """When the calendar next moves a case on by itself: the morning after a deadline, the
    end of a booked meeting, the day an invitation to a Community Talk is due."""
    with transaction(settings.db_url) as session:
        days = [
            r.deadline + timedelta(days=1)
            for r in session.exec(select(SupplementRequest))
            if r.received_at is None and r.expired_at is None
        ] + [
            c.deadline + timedelta(days=1)
            for c in session.exec(select(Communication))
            if c.replied_at is None and c.expired_at is None
        ]
        days += [invitation_due(case) for case in list_cases(session, CaseState.decided)]
        moments = [
            local_time(m.ends_at) + timedelta(minutes=30)
            for m in session.exec(select(Meeting).where(Meeting.status == MeetingStatus.booked))
        ]
    moments += [datetime.combine(next_working_day(d), time(9), tzinfo=STOCKHOLM) for d in days]
    later = [m for m in moments if m > clock.now()]
    return min(later) if later else None


def _act(settings: Settings, rules: Rules, submission_id: str) -> int:
    """One step on one case, in one transaction, by whoever the case's state calls for."""
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).first()
        if case is None:
            return 0
        return _STEPS.get(case.state, lambda *_: 0)(session, case, rules, SCRIPTS[submission_id])


def _person(session: Session, email: str) -> Person:
    return session.exec(select(Person).where(Person.email == email)).one()


def _checklist(session: Session, case: Case, rules: Rules, script: Script) -> int:
    officer = _person(session, OFFICER)
    case = case_for(session, case.case_reference, officer, lock=True)
    if script.withdrawal:
        register_withdrawal(
            session, case, officer, "aterkallelse.txt", b"Vi aterkallar ansokan.", script.withdrawal
        )
        return 1
    asked = session.exec(select(SupplementRequest).where(SupplementRequest.case_id == case.id))
    unclear = {} if asked.first() else script.unclear
    findings = {
        c: Finding(Answer.unclear, unclear[c]) if c in unclear else Finding(Answer.met)
        for c in Criterion
    }
    dismissal = (
        {"on_expiry": OnExpiry.dismiss, "dismiss_because": script.dismiss_because}
        if script.dismiss_because
        else {}
    )
    complete_checklist(session, case, officer, findings, rules, clock.today(), **dismissal)
    return 1


def _supplement(session: Session, case: Case, rules: Rules, script: Script) -> int:
    """The applicant sends what was asked for, the next working day; or never does."""
    if not script.supplement:
        return 0
    officer = _person(session, OFFICER)
    register_supplement(
        session,
        case_for(session, case.case_reference, officer, lock=True),
        officer,
        "komplettering.txt",
        script.supplement.encode(),
    )
    return 1


def _review(session: Session, case: Case, rules: Rules, script: Script) -> int:
    tasks = session.exec(
        select(ReviewTask).where(
            ReviewTask.case_id == case.id, ReviewTask.status == TaskStatus.open
        )
    ).all()
    for task in tasks:
        if case.state is not CaseState.in_review:
            break  # the quorum is reached: the other reviewers need not act
        reviewer = task.reviewer
        locked = case_for(session, case.case_reference, reviewer, lock=True)
        ground, note = script.conflicts.get(reviewer.email, (ConflictGround.none, ""))
        declare_conflict(session, locked, reviewer, ground, note, rules)
        if ground is ConflictGround.none:
            reasons = {c: script.reasons.get(c, f"{_FINDINGS[c]}") for c in Criterion}
            submit_review(
                session,
                locked,
                reviewer,
                script.recommendation,
                script.amount,
                reasons,
                list(script.other_funding),
                "",
                rules,
            )
    return 1


def _meeting(session: Session, case: Case, rules: Rules, script: Script) -> int:
    """Book the meeting a few working days ahead, and write the file note once it has been
    held (the simulated clock gets there); or skip it with a reason."""
    officer = _person(session, OFFICER)
    case = case_for(session, case.case_reference, officer, lock=True)
    if script.meeting is None:
        skip_meeting(session, case, officer, "Ansökan är tydlig och rådgivningsgruppen är enig.")
        return 1
    booked = session.exec(
        select(Meeting).where(Meeting.case_id == case.id, Meeting.status == MeetingStatus.booked)
    ).first()
    if booked is None:
        day = add_working_days(clock.today(), 3)
        book_meeting(
            session,
            case,
            officer,
            datetime.combine(day, script.meeting, tzinfo=STOCKHOLM),
            rules.meeting_minutes,
            "Regionens hus, Eklundavägen 1, Örebro",
            clock.now(),
            rules.meeting_hours,
        )
        return 1
    if local_time(booked.ends_at) > clock.now():
        return 0  # not held yet
    document_meeting(
        session,
        case,
        officer,
        "Föreningen berättade om hur de unga själva leder "
        "arbetet och om kommunens stöd. Inga nya uppgifter om budgeten.",
        clock.now(),
    )
    return 1


def _draft(session: Session, case: Case, rules: Rules, script: Script) -> int:
    """The officer words the draft, communicates it when it goes against the applicant
    (FL 25 §), weighs any comments in a new version, and submits it."""
    officer = _person(session, OFFICER)
    case = case_for(session, case.case_reference, officer, lock=True)
    draft = latest(session, case)
    if draft is None or draft.status is not DecisionStatus.draft:
        prepare_draft(
            session,
            case,
            officer,
            rules,
            reasons=_decision_reasons(case, script),
            decisive=script.decisive,
            not_met=list(script.not_met),
        )
    elif adverse(draft) and not communicated(session, draft):
        communicate(session, case, officer, rules, clock.today())
    elif script.reply_assessment and not draft.reply_assessment:
        prepare_draft(
            session,
            case,
            officer,
            rules,
            reasons=draft.reasons,
            decisive=draft.decisive,
            not_met=[c for c, found in draft.findings.items() if found == "not_met"],
            reply_assessment=script.reply_assessment,
        )
    else:
        submit_for_decision(session, case, officer, rules)
    return 1


def _decision_reasons(case: Case, script: Script) -> dict[str, str]:
    """The decision's own words per requirement: the script's, or the usual finding."""
    usual = _FINDINGS_EN if case.language == "en" else _FINDINGS
    return {c.value: script.decision.get(c, usual[c]) for c in Criterion}


def _reply(session: Session, case: Case, rules: Rules, script: Script) -> int:
    """The applicant answers the communication by e-mail; the officer registers it. With
    no reply, the case waits for the deadline (the sweep)."""
    if script.reply is None:
        return 0
    officer = _person(session, OFFICER)
    text, has_comments = script.reply
    register_reply(
        session,
        case_for(session, case.case_reference, officer, lock=True),
        officer,
        "yttrande.txt",
        text.encode(),
        has_comments,
    )
    return 1


def _sign(session: Session, case: Case, rules: Rules, script: Script) -> int:
    maker = _person(session, DECISION_MAKER)
    sign(session, case_for(session, case.case_reference, maker, lock=True), maker, rules)
    return 1


_STEPS: dict[CaseState, Any] = {
    CaseState.received: _checklist,
    CaseState.awaiting_supplement: _supplement,
    CaseState.in_review: _review,
    CaseState.applicant_meeting: _meeting,
    CaseState.drafting_decision: _draft,
    CaseState.communication: _reply,
    CaseState.awaiting_decision: _sign,
}
_FINDINGS = {
    Criterion.benefit_to_society: "Projektet möter en tydlig samhällsutmaning i kommunen.",
    Criterion.innovative: "Arbetssättet är nytt och planen för att det ska leva vidare är "
    "trovärdig.",
    Criterion.new_locally: "Något liknande finns inte i kommunen i dag.",
    Criterion.anchored_with_partners: "Samarbetspartnerna har bekräftat sitt stöd.",
}
_FINDINGS_EN = {
    Criterion.benefit_to_society: "The project meets a clear social challenge in the municipality.",
    Criterion.innovative: "The approach is new, and the plan for it to carry on is credible.",
    Criterion.new_locally: "Nothing similar exists in the municipality today.",
    Criterion.anchored_with_partners: "The partners have confirmed their support.",
}


def _register_talks(session: Session) -> None:
    officer = _person(session, OFFICER)
    today = clock.today()
    known = {talk.held_on for talk in upcoming_talks(session, today)}
    for held_on, starts_at, theme, theme_en, venue in TALKS:
        if held_on not in known and held_on > today:
            register_talk(session, officer, held_on, theme, venue, today, starts_at, theme_en)


def summary(settings: Settings) -> list[dict[str, Any]]:
    """Per case: outcome, amount, letters sent: the demo's closing table."""
    from models.cases import letter_counts, list_cases
    from models.tables import DeliveryState

    with transaction(settings.db_url) as session:
        counts = letter_counts(session)
        rows = []
        for case in list_cases(session):
            decision = latest(session, case)
            signed = decision is not None and decision.status is DecisionStatus.signed
            rows.append(
                {
                    "case": case.case_reference,
                    "organisation": case.organisation.name,
                    "state": case.state.value,
                    "outcome": decision.outcome.value if signed else "",
                    "amount": decision.amount if signed else None,
                    "letters": counts.get(case.id, {}).get(DeliveryState.sent, 0),
                }
            )
        return rows
