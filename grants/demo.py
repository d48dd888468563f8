"""`grants demo`: the eight seed projects through the whole path, with scripted people.

Each scripted person looks at a case's state and takes the step it calls for by its name,
through the step layer as the command line and the office do, until nothing is left for
people to do;
the flows send what each step ordered and the sweep does what the calendar makes due.
After the decisions the money follows the same way: the grantees accept, the instalments are
prepared and attested on each case, and the finance department's day (`_finance`) makes the
payment file and imports the bank's answer, which the demo makes as a bank would. Then the
results (`_results`): the grantees answer their Community Talk invitations and send their
final reports through their links, the case officer registers the Talks' attendance and
approves the reports, the notice-board day starts the refusals' time for appeal, the sweep
closes each case whose gates are open, one project answers its year-after follow-up, and the
grants are published as open data (`_open_data`).
Because every step is chosen by the case's state and records, running the demo again, or after a
crash, takes up where it stopped and never does a step twice; and because the simulated
clock resumes after the latest record an earlier run left (`resume_at`), on the day it
stopped, with what was left of that day's round (`_had_its_day`), a run that was killed
writes the same records, dated the same days, as one that was not.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from grants.bank_simulator import Credit, credit_notification, debit_notification
from grants.payment_files import read_pain001
from grants.settings import Settings
from grants.statistics import statistics_csv, statistics_name, statistics_pdf
from grants.steps import Taken, take
from grants.steps.acceptance import Account, take_acceptance, take_account_change
from grants.steps.bank import write_payment_files
from grants.steps.final_report import take_report_save, take_report_submit
from grants.steps.follow_ups import take_follow_up_answer
from grants.steps.open_data import write_open_data
from grants.steps.statistics import read_statistics
from grants.steps.talks import take_talk_answer
from grants.talk_programme import programme_csv, programme_name, programme_pdf
from models import clock
from models.acceptance import acceptance_of, account_text
from models.accounts import current_account, on_hold
from models.bank_files import ready_to_export
from models.cases import list_cases
from models.checklist import Finding
from models.closing import appeal_last_day, decision_in_force
from models.community_talks import invitation_due, reply_by, upcoming_talks
from models.db import transaction
from models.decisions import (
    GRANTS,
    adverse,
    communicated,
    latest,
    signed_grant,
)
from models.delays import UNDECIDED, delay_notice_due
from models.delivery import running_deadline
from models.final_reports import Typed as ReportTyped
from models.final_reports import paid_out, report_of, unspent
from models.follow_ups import FollowUpTyped, asked_on, follow_up_day, follow_up_of
from models.letters import COMMUNICATION, RENDER_LEASE
from models.material import uncommunicated
from models.payments import Money, call_money, orders_of
from models.people import find_person
from models.repayment import claims, owed
from models.rules import Rules
from models.states import CaseState
from models.statistics import calendar_year
from models.supplements import reminder_day, running_supplement_deadline
from models.tables import (
    STOCKHOLM,
    Answer,
    AuditEvent,
    BankReport,
    Case,
    Communication,
    CommunityTalk,
    ConflictGround,
    Criterion,
    Decision,
    DecisionStatus,
    FinalReport,
    FinalReportStatus,
    FormalRequirement,
    Letter,
    Material,
    Meeting,
    MeetingStatus,
    Notice,
    NoticeBoardDay,
    OnExpiry,
    PayeeAccount,
    PaymentFile,
    PaymentOrder,
    PaymentStatus,
    Recommendation,
    RepaymentClaim,
    RepaymentStatus,
    ReviewTask,
    Role,
    SupplementRequest,
    TalkAnswer,
    TalkAttendance,
    TaskStatus,
    local_time,
)
from models.talk_answers import answer_of, answered_talk, programme, talks_held_and_coming
from models.working_days import add_working_days, next_working_day

OFFICER = "maria.lindqvist@regionorebrolan.example.se"
FINANCE = "anneli.berglund@regionorebrolan.example.se"
COOMPANION = "johan.ek@coompanion.example.se"
ACTIVA = "lena.holm@activa.example.se"
DECISION_MAKER = "karin.sjoberg@regionorebrolan.example.se"
# Advice that fits a refusal because a like activity already exists: support for running,
# not new, activity, together with the one already there.
ESTABLISHED = (
    "Örebro kommuns bidrag till föreningar med barn- och ungdomsverksamhet: stöd till löpande "
    "verksamhet, som kan passa om föreningen vill utveckla kvällsträffarna tillsammans med "
    "fritidsgården i Vivalla."
)
TALKS = (  # the Partnership's two talks a year
    (
        date(2028, 3, 16),
        time(14),
        time(16),
        "Skateboard och odling – kan det vara sociala innovationer?",
        "Skateboarding and growing vegetables – can they be social innovations?",
        "Kulturhuset, Örebro",
        "Fredsgatan 18, 702 10 Örebro",
    ),
    (
        date(2028, 9, 21),
        time(13, 30),
        time(16),
        "Tillsammans möter vi samhällsutmaningar",
        "Meeting society's challenges together",
        "Örebro slott",
        "Kansligatan 1, 702 11 Örebro",
    ),
)


@dataclass(frozen=True)
class Grantee:
    """The person entitled to sign for a grantee, who accepts the grant's conditions and
    gives the account to pay to; and what more the grantee does with the money."""

    name: str
    role: str
    account: Account
    on_paper: bool = False  # the acceptance comes by post: the case officer registers it
    # A new account given through the link while the instalment waits for the payment run,
    # and how the case officer verified it before confirming it.
    new_account: Account | None = None
    verification: str = ""
    # Money the project will not use, claimed back: (kronor, why), and the grantee's reply.
    unused: tuple[int, str] | None = None
    reply: str = ""
    # The final report through the link: the grant spent by its account (None: all of it;
    # less, and the approval claims the rest back), what the case officer asks it to
    # complete before approving it, and whether the grantee saves it a day before sending.
    spent: int | None = None
    complete_with: str = ""
    saves_first: bool = False
    # The answer to the follow-up a year after the project ended (the demo's clock goes
    # there for this grantee alone).
    follow_up: FollowUpTyped | None = None


@dataclass(frozen=True)
class Script:
    """What the scripted people do with one application."""

    recommendation: Recommendation = Recommendation.granted
    amount: int | None = None  # for partly_granted
    unclear: dict[Criterion, str] = field(default_factory=dict)  # → a supplement request
    # A formal requirement (FL 20 §) unclear, with what to send → a supplement request.
    formal: dict[FormalRequirement, str] = field(default_factory=dict)
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
    # The case officer's file note on why no meeting with the applicant is needed.
    no_meeting: str = "Ansökan är tydlig och yttrandena tillstyrker den; ett möte behövs inte."
    # Material from others the reply assessment rests on: (source, text). Registered with
    # the assessment and communicated again (FL 25 §); then `reply_again` answers it.
    material: tuple[str, str] | None = None
    reply_again: tuple[str, bool] | None = None
    # After a grant: who signs for the grantee, and what it does with the money.
    grantee: Grantee | None = None


SCRIPTS = {
    "SI-2026-0101": Script(
        meeting=time(10),
        grantee=Grantee(
            "Linnéa Åström",
            "ordförande",
            Account(bankgiro="587-0316"),
            spent=32_000,
            reply="Vi har tagit del av underlaget och betalar tillbaka det som blev över. "
            "/ Styrelsen",
        ),
    ),
    "SI-2026-0102": Script(
        Recommendation.partly_granted,
        40_000,
        conflicts={
            ACTIVA: (
                ConflictGround.own_organisation,
                "Stiftelsen Activa är samarbetspartner i projektet.",
            )
        },
        decisive="Budgeten tar upp 12 000 kr för inköp av utrustning. Region Örebro län "
        "bedömer att 7 000 kr räcker, eftersom föreningen kan låna verktyg av kommunens "
        "fritidsförvaltning; posten sätts därför ned med 5 000 kr.",
        no_meeting="Yttrandena tillstyrker projektet. Det som återstår gäller budgetposten för "
        "utrustning, och den får föreningen lämna synpunkter på när förslaget kommuniceras; ett "
        "möte behövs därför inte.",
        grantee=Grantee(
            "Johan Ekström",
            "styrelseordförande",
            Account(clearing="8417-8", account="913 042 268-7"),
            complete_with="Rapporten säger inte hur många som deltog. Fyll i antalet "
            "deltagare per åldersgrupp och skicka rapporten igen.",
        ),
    ),
    "SI-2026-0103": Script(
        unclear={
            Criterion.anchored_with_partners: "Skicka ett intyg från Nora kommun om "
            "lokalen för lånebiblioteket."
        },
        supplement="Intyg: Nora kommun upplåter lokalen på Prästgatan 7 under projekttiden. "
        "/ Anna Berg, fritidschef",
        no_meeting="Kompletteringen från Nora kommun besvarade frågan om lokalen, och ansökan "
        "är i övrigt tydlig; ett möte behövs inte.",
        grantee=Grantee("Maria Öhman", "kassör", Account(plusgiro="471 33 06-1"), on_paper=True),
    ),
    "SI-2026-0104": Script(
        Recommendation.refused,
        other_funding=(ESTABLISHED,),
        reasons={
            Criterion.innovative: "Verksamheten finns redan i liknande form i Vivalla "
            "genom fritidsgården; ansökan visar inte vad som är nytt.",
            Criterion.new_locally: "Fritidsgården i Vivalla har redan kvällsverksamhet "
            "för killar i samma ålder.",
        },
        decision={
            Criterion.innovative: "Region Örebro län bedömer att fritidsgården i Vivalla redan "
            "bedriver en liknande verksamhet för killar i samma ålder. Ansökan beskriver inte vad "
            "projektet gör annorlunda eller vad som ska leva vidare när det är slut.",
            Criterion.new_locally: "Av samma skäl är projektet inte nytt i Vivalla: en liknande "
            "verksamhet finns redan där.",
        },
        not_met=("innovative", "new_locally"),
        no_meeting="Yttrandena pekar på att en liknande verksamhet redan finns i Vivalla. Vad "
        "som skiljer projektet från fritidsgårdens verksamhet kan föreningen beskriva när "
        "förslaget kommuniceras; ett möte före förslaget behövs inte.",
        decisive="Projektet uppfyller inte kraven på att vara nyskapande och nytt lokalt, "
        "eftersom en liknande verksamhet redan finns i Vivalla.",
        reply=(
            "Fritidsgården har öppet två kvällar i veckan för alla åldrar; vårt projekt "
            "riktar sig till killar 10–13 år och deras föräldrar. / Styrelsen",
            True,
        ),
        reply_assessment="Föreningen invänder att fritidsgården bara har öppet två kvällar i "
        "veckan för alla åldrar, medan projektet riktar sig till killar 10–13 år och deras "
        "föräldrar. Enligt Örebro kommuns fritidsförvaltning har fritidsgården i Vivalla, utöver "
        "de öppna kvällarna, en eftermiddagsgrupp för killar 10–13 år varje onsdag och "
        "föräldraträffar för samma åldersgrupp en gång i månaden. Att kvällarna är öppna för "
        "alla åldrar ändrar därför inte bedömningen att en liknande verksamhet för samma "
        "målgrupp redan finns i Vivalla.",
        material=(
            "Örebro kommun, fritidsförvaltningen",
            "Fritidsgården i Vivalla har öppet för alla åldrar två kvällar i veckan. Sedan "
            "hösten 2026 har den också en eftermiddagsgrupp för killar 10–13 år varje onsdag "
            "och föräldraträffar för samma åldersgrupp en gång i månaden. (E-post till "
            "handläggaren.)",
        ),
        reply_again=(
            "Vi har tagit del av kommunens uppgifter och har inget mer att tillägga. / Styrelsen",
            False,
        ),
    ),
    "SI-2026-0105": Script(
        conflicts={
            COOMPANION: (
                ConflictGround.own_organisation,
                "Coompanion Mälardalen är samarbetspartner.",
            )
        },
        grantee=Grantee(
            "Amina Yusuf",
            "ordförande",
            Account(bankgiro="5431-2608"),
            new_account=Account(clearing="9024", account="710 238 7"),
            verification="Ringde föreningens ordförande Amina Yusuf på telefonnumret i ansökan. "
            "Hon bekräftade att föreningen har bytt bank till Länsförsäkringar Bank och att "
            "bidraget ska betalas till det nya kontot; styrelsens protokoll om bytet kom med "
            "e-post från föreningens registrerade adress.",
        ),
    ),
    "SI-2026-0106": Script(
        meeting=time(13, 30),
        grantee=Grantee(
            "Oskar Bäckström",
            "kassör",
            Account(clearing="6241", account="407 182 357"),
            unused=(
                6_000,
                "Föreningen har meddelat att 6 000 kr av bidraget inte kommer att användas: "
                "virket till den nya rampen skänktes av en byggvaruhandel i Askersund, och den "
                "budgetposten behövs därför inte.",
            ),
            reply="Vi har tagit del av underlaget och har inget att invända mot återkravet. "
            "Vi betalar tillbaka 6 000 kr. / Styrelsen",
        ),
    ),
    "SI-2026-0107": Script(
        Recommendation.partly_granted,
        25_000,
        decisive="Budgeten tar upp 5 000 kr för hyra av lokal, men kommunens familjecentral "
        "upplåter lokalen utan kostnad enligt ansökan. Den posten stryks.",
        no_meeting="Yttrandena tillstyrker projektet. Det som återstår är hyran för lokalen, som "
        "familjecentralen enligt ansökan upplåter utan kostnad; föreningen får lämna synpunkter "
        "på det när förslaget kommuniceras.",
        reply=None,  # no reply by the deadline: the draft goes on without one
        grantee=Grantee(
            "Karin Sjöström",
            "verksamhetsledare, firmatecknare",
            Account(bankgiro="9012-4579"),
            saves_first=True,
        ),
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
        grantee=Grantee(
            "Imran Qureshi",
            "Chair",
            Account(clearing="5361", account="003 284 7"),
            follow_up=FollowUpTyped(
                continues="yes",
                runner="other",
                taken_over_by="Karlskoga Cricket Club",
                text="The youth team trains every week; two of the young coaches now lead it.",
                funding=[{"funder": "Karlskoga kommun", "amount": "15000", "date": "2028-09-15"}],
            ),
        ),
    ),
    "SI-2026-0109": Script(
        formal={
            FormalRequirement.signatory: "Skicka ett styrelseprotokoll eller en fullmakt "
            "som visar att ansökan görs av föreningen. Ansökan är undertecknad av en person som "
            "inte finns med bland föreningens firmatecknare."
        },
        dismiss_because="Utan protokoll eller fullmakt vet vi inte att ansökan kommer från "
        "föreningen. Då finns det ingen ansökan från föreningen att pröva.",
        reply=None,
    ),
    "SI-2026-0110": Script(
        withdrawal="Föreningen återkallar ansökan, eftersom projektet har fått finansiering från "
        "Allmänna arvsfonden. Ärendet avskrivs därför utan prövning.",
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
    on the simulated clock (models.clock) the caller started (at `resume_at`): a round a
    working day, and when nobody acts, straight on to when the calendar next moves a case.
    Each round is reported as it ends."""
    from flows.assessment import sweep
    from flows.letters import send_letters
    from grants.embedded import run_flow

    _register_talks(settings)
    for number in range(1, MAX_ROUNDS + 1):  # people act, letters go, the sweep does what is due
        day = clock.today()
        acted = _notice_board(settings)
        acted += sum(_act(settings, submission_id) for submission_id in SCRIPTS)
        acted += _finance(settings)
        sent = run_flow(send_letters)["sent"]
        swept = run_flow(sweep)
        report(Round(number, day, acted, sent + swept["sent"], *_decided(settings)))
        if _busy_today(settings):
            clock.move_to(next_morning())  # someone has a step to take tomorrow
            continue
        waiting_for = next_due(settings)
        if waiting_for is None:
            break
        clock.move_to(waiting_for)
    if _open_data(settings):
        run_flow(sweep)  # the day's anchor of the trail covers the publication


MAX_ROUNDS = 90


def _notice_board(settings: Settings) -> int:
    """The case officer registers the notice board's day once every case is decided, the
    working day after the last decision: the minutes reporting the delegated decisions were
    announced today and cover every decision up to yesterday, so the time for appeal of the
    refusal, the dismissal and the withdrawal starts (`models.closing`). Once."""
    yesterday = clock.today() - timedelta(days=1)
    with transaction(settings.db_url) as session:
        if any(case.state not in DECIDED for case in list_cases(session)):
            return 0
        signed = session.exec(
            select(func.max(Decision.decided_at)).where(Decision.status == DecisionStatus.signed)
        ).one()
        if signed is None or local_time(signed).date() > yesterday:
            return 0
        if session.exec(select(NoticeBoardDay)).first() is not None:
            return 0
    covered = {"announced_on": clock.today(), "covers_until": yesterday}
    take(settings, "register_notice_board_day", OFFICER, **covered)
    return 1


def _open_data(settings: Settings) -> bool:
    """The grants decided, as open data in the 360Giving Data Standard, written under
    GRANTS_HOME/open-data as `grants open-data` does: the decisions' years whole. Once: a
    demo run again after its end publishes nothing more. Whether it published now."""
    if settings.config_file.open_data is None:
        return False
    with transaction(settings.db_url) as session:
        published = select(AuditEvent.id).where(AuditEvent.action == "open_data_published")
        if session.exec(published).first() is not None:
            return False
        days = session.exec(
            select(func.min(Decision.decided_at), func.max(Decision.decided_at)).where(
                Decision.status == DecisionStatus.signed
            )
        ).one()
    if days[0] is None:
        return False
    first, last = (local_time(moment).date() for moment in days)
    _committee_reports(settings, range(first.year, last.year + 1))
    write_open_data(settings, OFFICER, date(first.year, 1, 1), date(last.year, 12, 31))
    return True


def _committee_reports(settings: Settings, years: range) -> None:
    """The committee's annual report (PDF) and figures (CSV) of each year with decisions,
    under GRANTS_HOME/statistics, and each Community Talk's programme (PDF and CSV, as the
    organiser downloads it) under GRANTS_HOME/talks, as `grants statistics` and `grants talk
    programme` write them. Before the open data, whose publication marks the demo's end: a
    run killed between them writes them again, the same."""
    folder = settings.home / "statistics"
    folder.mkdir(exist_ok=True)
    for year in years:
        first, last = calendar_year(year)
        figures = read_statistics(settings, DECISION_MAKER, first, last)
        (folder / statistics_name(first, last, ".pdf")).write_bytes(
            statistics_pdf(settings, figures)
        )
        (folder / statistics_name(first, last, ".csv")).write_bytes(statistics_csv(figures))
    folder = settings.home / "talks"
    folder.mkdir(exist_ok=True)
    with transaction(settings.db_url) as session:
        for talk in talks_held_and_coming(session):
            items = programme(session, talk)
            (folder / programme_name(talk, ".pdf")).write_bytes(
                programme_pdf(settings, talk, items)
            )
            (folder / programme_name(talk, ".csv")).write_bytes(programme_csv(items))


def next_morning() -> datetime:
    """09.00 on the next working day: people act once a working day."""
    day = next_working_day(clock.today() + timedelta(days=1))
    return datetime.combine(day, time(9), tzinfo=STOCKHOLM)


def resume_at(settings: Settings) -> datetime:
    """Where the simulated clock starts: the next working morning, or, after an earlier run
    of the demo (stopped, or killed half-way), just after the latest record it left, so that
    no record is dated before one already written. "Just after" is once the claims that
    run held on letters (to render or to send them) have gone stale, so that its letters go
    out on the day they would have gone, not a round later."""
    with transaction(settings.db_url) as session:
        latest = _latest_record(session)
    if latest is None:
        return next_morning()
    return max(next_morning(), latest + max(settings.retry_policy.stale_after, RENDER_LEASE))


def _latest_record(session: Session) -> datetime | None:
    """The latest moment in the case database: of the audit trail, where every step and
    delivery is recorded, and of what is recorded outside it (Community Talks, claims)."""
    moments = [
        session.exec(select(func.max(column))).one()
        for column in (
            AuditEvent.at,
            CommunityTalk.registered_at,
            Letter.claimed_at,
            Notice.claimed_at,
        )
    ]
    found = [local_time(moment) for moment in moments if moment is not None]
    return max(found) if found else None


def _today(session: Session, case: Case | None = None) -> list[AuditEvent]:
    """The audit trail of today on the simulated clock (of one case, if given), but the
    applications' registration, which comes before the day's first round."""
    query = select(AuditEvent).where(
        col(AuditEvent.at) >= _midnight(), col(AuditEvent.state_before).is_not(None)
    )
    if case is not None:
        query = query.where(AuditEvent.case_id == case.id)
    return list(session.exec(query.order_by(col(AuditEvent.id))))


def _midnight() -> datetime:
    """The start of today on the simulated clock, Swedish time, in UTC as records are."""
    return datetime.combine(clock.today(), time(0), tzinfo=STOCKHOLM).astimezone(UTC)


def _busy_today(settings: Settings) -> bool:
    """Whether people have something to take up tomorrow: they acted today, or an
    applicant's time ran out today (the sweep moved a case on from waiting for them). Read
    from the trail, so that a round resumed after a crash counts what the killed run did.
    A grantee's answer or report through its link is not: what follows it has its own day
    (`_grant_days`), so the clock does not stop on a day when nobody acts."""
    with transaction(settings.db_url) as session:
        return any(
            (event.role is not Role.system and event.action not in _OWN_DAY) or _time_ran_out(event)
            for event in _today(session)
        )


# The grantee's results steps through its link, whose next step `_grant_days` dates.
_OWN_DAY = ("talk_answered", "final_report_saved", "final_report_submitted", "follow_up_answered")


def _time_ran_out(event: AuditEvent) -> bool:
    """The case moved on from waiting for the applicant without them: a deadline passed."""
    waiting = (CaseState.awaiting_supplement, CaseState.communication)
    moved = event.state_after != event.state_before
    return moved and event.state_before in waiting and event.role is Role.system


def _had_its_day(session: Session, case: Case) -> bool:
    """Whether the case's people have had their round today: a step or the sweep moved it
    on today (what the new state calls for is for tomorrow), or someone took a step in it
    and it is not in review (where each reviewer who has not yet acted still may). Each
    case's plan is one step but the review, so after a crash mid-round this is what was
    left of the round."""
    events = _today(session, case)
    if any(event.state_after != event.state_before for event in events):
        return True
    acted = any(event.role is not Role.system for event in events)
    return acted and case.state is not CaseState.in_review


DECIDED = (CaseState.decided, CaseState.reporting, CaseState.closed)


def _decided(settings: Settings) -> tuple[int, int]:
    """How many cases are decided (or closed), of how many."""
    with transaction(settings.db_url) as session:
        states = [case.state for case in list_cases(session)]
    return sum(state in DECIDED for state in states), len(states)


def next_due(settings: Settings) -> datetime | None:
    """When the calendar next moves a case on by itself: the first day of a supplement's
    reminder, the morning after a deadline (as it runs, from its letter's delivery), the
    end of a booked meeting, the day an invitation to a Community Talk is due, the day an
    undecided case is told that its promised decision date will not hold."""
    rules = settings.rules
    with transaction(settings.db_url) as session:
        days = []
        for r in session.exec(select(SupplementRequest)):
            if r.received_at is None and r.expired_at is None:
                deadline = running_supplement_deadline(session, r, rules) or r.deadline
                days.append(deadline + timedelta(days=1))
                days += [] if r.reminded_at else [reminder_day(deadline, rules)]
        for c in session.exec(select(Communication)):
            if c.replied_at is None and c.expired_at is None:
                working_days = rules.communication_working_days
                runs = running_deadline(
                    session, c.case, COMMUNICATION, c.number, c.deadline, working_days
                )
                days.append((runs or c.deadline) + timedelta(days=1))
        days += [invitation_due(case) for case in list_cases(session, CaseState.decided)]
        days += _results_days(session)
        days += [
            delay_notice_due(case.expected_decision_on)
            for case in list_cases(session)
            if case.state in UNDECIDED and case.delay_notified_at is None
        ]
        moments = [
            local_time(m.ends_at) + timedelta(minutes=30)
            for m in session.exec(select(Meeting).where(Meeting.status == MeetingStatus.booked))
        ]
    moments += [datetime.combine(next_working_day(d), time(9), tzinfo=STOCKHOLM) for d in days]
    later = [m for m in moments if m > clock.now()]
    return min(later) if later else None


def _results_days(session: Session) -> list[date]:
    """When the results' steps (`_results`) next come for each grant whose money is paid,
    and the day after a refusal's, a dismissal's or a withdrawal's time for appeal."""
    tomorrow = clock.today() + timedelta(days=1)
    days = []
    for case in list_cases(session):
        grantee = SCRIPTS[case.submission_id].grantee if case.submission_id in SCRIPTS else None
        decision = decision_in_force(session, case)
        if decision is not None and decision.outcome not in GRANTS:
            last_day = appeal_last_day(session, decision)
            days += [last_day + timedelta(days=1)] if last_day else []
        if grantee is None or decision is None or not _all_paid(session, case):
            continue
        days += _grant_days(session, case, grantee, tomorrow)
    return days


def _all_paid(session: Session, case: Case) -> bool:
    orders = orders_of(session, case)
    return bool(orders) and all(order.status is PaymentStatus.paid for order in orders)


def _grant_days(session: Session, case: Case, grantee: Grantee, tomorrow: date) -> list[date]:
    """The day of the grant's next results step, if one is to come."""
    if case.state is CaseState.reporting and answer_of(session, case) is None:
        talk = answered_talk(session, case)
        return [max(_answer_day(case, talk), tomorrow)] if tomorrow <= reply_by(talk) else []
    report = report_of(session, case)
    if report is None or report.status in _TO_SEND:
        return [max(case.project_end + timedelta(days=1), tomorrow)]
    if report.status is FinalReportStatus.submitted:
        if case.state is not CaseState.reporting or (
            grantee.complete_with and report.more_requested_at is None
        ):
            return [tomorrow]
        return [max(answered_talk(session, case).held_on + timedelta(days=1), tomorrow)]
    if any(
        claim.status in (*_CLAIM_OPEN, RepaymentStatus.decided) for claim in claims(session, case)
    ):
        return [tomorrow]
    if grantee.follow_up is None or follow_up_of(session, case) is not None:
        return []
    return [tomorrow] if asked_on(session, case) else [follow_up_day(case)]


@dataclass(frozen=True)
class Planned:
    """A step a scripted person takes next, by its declared name (`grants.steps`)."""

    name: str
    actor: str
    parameters: dict[str, Any] = field(default_factory=dict)


def _act(settings: Settings, submission_id: str) -> int:
    """The steps the case's state calls for, by whoever it calls for, each through the step
    layer as a person's would be; taken while the case stays in the state they were planned
    for (once the quorum is reached, the other reviewers need not act)."""
    with transaction(settings.db_url) as session:
        case = session.exec(select(Case).where(Case.submission_id == submission_id)).first()
        if case is None or case.state not in _PLANS or _had_its_day(session, case):
            return 0
        planned_in, reference = case.state, case.case_reference
        plan = _PLANS[case.state](session, case, settings.rules, SCRIPTS[submission_id])
    for step in plan:
        if _taken(settings, step, reference).state != planned_in:
            break
    return 1 if plan else 0


def _taken(settings: Settings, step: Planned, reference: str) -> Taken:
    """A person's step, by its declared name; the grantee's, through its personal link."""
    through_link = _THROUGH_LINK.get(step.name)
    if through_link is not None:
        return through_link(settings, reference, **step.parameters)
    return take(settings, step.name, step.actor, reference, **step.parameters)


# The grantee's steps through the personal link in its decision's e-mail: no person signs in.
GRANTEE = ""
_THROUGH_LINK: dict[str, Callable[..., Taken]] = {
    "accept_through_link": take_acceptance,
    "change_account_through_link": take_account_change,
    "answer_talk_through_link": take_talk_answer,
    "save_final_report_through_link": take_report_save,
    "submit_final_report_through_link": take_report_submit,
    "answer_follow_up_through_link": take_follow_up_answer,
}


def _checklist(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    if script.withdrawal:
        withdrawn = {"reason": script.withdrawal, "filename": "aterkallelse.txt"}
        return [
            Planned(
                "register_withdrawal", OFFICER, withdrawn | {"content": b"Vi aterkallar ansokan."}
            )
        ]
    asked = session.exec(select(SupplementRequest).where(SupplementRequest.case_id == case.id))
    first = asked.first() is None
    unclear = script.unclear if first else {}
    formal = {r: Finding(Answer.unclear, text) for r, text in script.formal.items() if first}
    findings = {
        c: Finding(Answer.unclear, unclear[c]) if c in unclear else Finding(Answer.met)
        for c in Criterion
    }
    dismissal = (
        {"if_no_reply": OnExpiry.dismiss, "dismiss_because": script.dismiss_because}
        if script.dismiss_because
        else {}
    )
    checklist = {"findings": findings, "formal": formal, "missing": []}
    return [Planned("checklist", OFFICER, checklist | dismissal)]


def _supplement(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    """The applicant sends what was asked for, the next working day; or never does."""
    if not script.supplement:
        return []
    sent = {"filename": "komplettering.txt", "content": script.supplement.encode()}
    return [Planned("register_supplement", OFFICER, sent)]


def _review(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    tasks = session.exec(
        select(ReviewTask).where(
            ReviewTask.case_id == case.id, ReviewTask.status == TaskStatus.open
        )
    ).all()
    plan = []
    for task in tasks:
        reviewer = task.reviewer.email
        ground, note = script.conflicts.get(reviewer, (ConflictGround.none, ""))
        if task.conflict is None:  # declared already, when a crash came before the review
            plan.append(Planned("declare_conflict", reviewer, {"ground": ground, "note": note}))
        if ground is ConflictGround.none:
            review = {
                "recommendation": script.recommendation,
                "amount": script.amount,
                "reasons": {c: script.reasons.get(c, f"{_FINDINGS[c]}") for c in Criterion},
                "other_funding": list(script.other_funding),
                "comments": "",
            }
            plan.append(Planned("submit_review", reviewer, review))
    return plan


def _meeting(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    """Book the meeting a few working days ahead, and write the file note once it has been
    held (the simulated clock gets there); or skip it with a reason."""
    if script.meeting is None:
        return [Planned("skip_meeting", OFFICER, {"reason": script.no_meeting})]
    booked = session.exec(
        select(Meeting).where(Meeting.case_id == case.id, Meeting.status == MeetingStatus.booked)
    ).first()
    if booked is None:
        day = add_working_days(clock.today(), 3)
        meeting = {
            "starts_at": datetime.combine(day, script.meeting, tzinfo=STOCKHOLM),
            "minutes": rules.meeting_minutes,
            "place": "Regionens hus, Eklundavägen 1, Örebro",
        }
        return [Planned("book_meeting", OFFICER, meeting)]
    if local_time(booked.ends_at) > clock.now():
        return []  # not held yet
    note = (
        "Föreningen berättade om hur de unga själva leder "
        "arbetet och om kommunens stöd. Inga nya uppgifter om budgeten."
    )
    return [Planned("document_meeting", OFFICER, {"text": note})]


def _draft(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    """The officer words the draft, communicates it when it goes against the applicant
    (FL 25 §), weighs any comments in a new version, and submits it."""
    draft = latest(session, case)
    worded = {"outcome": None, "amount": None, "conditions": []}
    if draft is None or draft.status is not DecisionStatus.draft:
        worded |= {
            "reasons": _decision_reasons(case, script),
            "decisive": script.decisive,
            "not_met": list(script.not_met),
            "reply_assessment": "",
        }
        return [Planned("prepare_draft", OFFICER, worded)]
    if adverse(draft) and not communicated(session, draft):
        return [Planned("communicate", OFFICER)]
    if script.reply_assessment and not draft.reply_assessment:
        worded |= {
            "reasons": draft.reasons,
            "decisive": draft.decisive,
            "not_met": [c for c, found in draft.findings.items() if found == "not_met"],
            "reply_assessment": script.reply_assessment,
        }
        # What the assessment rests on from others is registered and put to the applicant.
        return [*_material(session, case, script), Planned("prepare_draft", OFFICER, worded)]
    if uncommunicated(session, case):
        return [Planned("communicate", OFFICER)]
    return [Planned("submit_draft", OFFICER, {"no_communication_because": ""})]


def _material(session: Session, case: Case, script: Script) -> list[Planned]:
    """The statement from others that the reply assessment rests on, with its source (once:
    a run stopped between it and the draft does not register it twice)."""
    registered = session.exec(select(Material).where(Material.case_id == case.id)).first()
    if script.material is None or registered is not None:
        return []
    source, text = script.material
    given = {"source": source, "text": text, "filename": "", "content": b""}
    return [Planned("add_material", OFFICER, given)]


def _decision_reasons(case: Case, script: Script) -> dict[str, str]:
    """The decision's own words per requirement: the script's, or the usual finding."""
    usual = _FINDINGS_EN if case.language == "en" else _FINDINGS
    return {c.value: script.decision.get(c, usual[c]) for c in Criterion}


def _reply(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    """The applicant answers the communication by e-mail; the officer registers it. With
    no reply, the case waits for the deadline (the sweep)."""
    again = session.exec(
        select(Communication).where(Communication.case_id == case.id, Communication.number > 1)
    ).first()
    reply = script.reply_again if again else script.reply
    if reply is None:
        return []
    text, has_comments = reply
    replied = {"filename": "yttrande.txt", "content": text.encode(), "has_comments": has_comments}
    return [Planned("register_reply", OFFICER, replied)]


def _sign(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    return [Planned("sign", DECISION_MAKER)]


def _money(session: Session, case: Case, rules: Rules, script: Script) -> list[Planned]:
    """After a signed grant: the grantee accepts its conditions (through its link, or on
    paper, which the case officer registers), the case officer prepares the instalments
    due and the decision maker attests them (four eyes); a grantee may give a new account
    while its order waits for the payment run, which holds the order until the case officer
    has verified it; and a project that will not use all the money pays it back."""
    grantee = script.grantee
    if grantee is None or signed_grant(session, case) is None:
        return []
    if acceptance_of(session, case) is None:
        return [_acceptance(grantee)]
    orders = orders_of(session, case)
    if not orders:
        return [Planned("prepare_payment_orders", OFFICER)]
    account = current_account(session, case)
    if on_hold(account):
        return _confirmation(session, account, grantee)
    prepared = [order for order in orders if order.status is PaymentStatus.prepared]
    if prepared:
        return [
            Planned("attest_payment_order", DECISION_MAKER, {"order_id": o.id}) for o in prepared
        ]
    waiting = any(order.status is PaymentStatus.attested for order in orders)
    if waiting and grantee.new_account and account is not None and not account.needs_confirmation:
        return [Planned("change_account_through_link", GRANTEE, {"account": grantee.new_account})]
    if not _paid_before_today(session, case, orders):
        return []
    if grantee.unused:
        return _repayment(session, case, grantee) or _results(session, case, grantee)
    return _results(session, case, grantee)


def _paid_before_today(session: Session, case: Case, orders: list[PaymentOrder]) -> bool:
    """Every order paid, registered so before today (the finance department imports the
    bank's report after the case officers' round: see `_confirmation`)."""
    if any(order.status is not PaymentStatus.paid for order in orders):
        return False
    paid_today = session.exec(
        select(AuditEvent.id).where(
            AuditEvent.case_id == case.id,
            col(AuditEvent.action).in_(("payment_paid", "payment_registered_paid")),
            col(AuditEvent.at) >= _midnight(),
        )
    ).first()
    return paid_today is None


def _acceptance(grantee: Grantee) -> Planned:
    """The signatory accepts through the link in the decision's e-mail; or signs the paper
    that came with the decision and posts it, and the case officer registers it."""
    signed = {
        "signatory_name": grantee.name,
        "signatory_role": grantee.role,
        "account": grantee.account,
    }
    if not grantee.on_paper:
        return Planned("accept_through_link", GRANTEE, signed)
    paper = f"Villkoren för bidraget godkänns. {grantee.name}, {grantee.role}".encode()
    return Planned("register_acceptance", OFFICER, signed | {"paper": ("godkannande.txt", paper)})


def _confirmation(
    session: Session, account: PayeeAccount | None, grantee: Grantee
) -> list[Planned]:
    """The case officer confirms a changed account the working day after a payment run left
    its order out (the finance department asks about the held order), with how it was
    verified. The day after: the payment run comes after the case officers' round, so a
    round taken up again after a crash finds the same as the first try did."""
    if account is None or not grantee.verification:
        return []
    run_since = session.exec(
        select(PaymentFile).where(
            col(PaymentFile.created_at) > account.given_at,
            col(PaymentFile.created_at) < _midnight(),
        )
    ).first()
    if run_since is None:
        return []
    return [Planned("confirm_account", OFFICER, {"verification": grantee.verification})]


def _repayment(session: Session, case: Case, grantee: Grantee) -> list[Planned]:
    """The money the project will not use, claimed back: drafted, communicated (FL 25 §),
    the grantee's reply registered, decided by the decision maker. The grantee pays it
    to the Region's bankgiro with the claim's OCR reference (`_finance`)."""
    amount, reason = grantee.unused or (0, "")
    found = claims(session, case)
    if not found:
        drafted = {"amount": amount, "reason_kind": "unused", "reason": reason}
        return [Planned("repayment_draft", OFFICER, drafted)]
    return _claim_steps(found[-1], grantee)


def _claim_steps(claim: RepaymentClaim, grantee: Grantee) -> list[Planned]:
    """A drafted repayment claim communicated, the grantee's reply registered, decided."""
    number = {"number": claim.number}
    if claim.status is RepaymentStatus.drafted:
        return [Planned("repayment_communicate", OFFICER, number)]
    if claim.status is not RepaymentStatus.communicated:
        return []
    if claim.replied_at is None:
        return [Planned("repayment_reply", OFFICER, number | {"reply": grantee.reply})]
    assessment = "Föreningen har inget att invända mot återkravet."
    return [Planned("repayment_decide", DECISION_MAKER, number | {"reply_assessment": assessment})]


def _results(session: Session, case: Case, grantee: Grantee) -> list[Planned]:
    """After the money: once the project has ended the grantee answers its Community Talk
    invitation and sends its final report through its link (one saves it a day first); the
    case officer asks one to complete it, and approves each the day after its Talk, once
    attendance is registered, drafting the repayment claim for money unspent; the claim
    then goes as any other. A year after the project, the grantee answers the follow-up."""
    today = clock.today()
    answering = []
    if case.state is CaseState.reporting and answer_of(session, case) is None:
        talk = answered_talk(session, case)
        if today > reply_by(talk):
            return []
        if today < _answer_day(case, talk):
            return []
        answer = {"talk": str(talk.id), "presenters": grantee.name, "attendees": "3"}
        answering = [Planned("answer_talk_through_link", GRANTEE, answer)]
    report = report_of(session, case)
    if report is None or report.status in _TO_SEND:
        sent = _report_sent(session, case, grantee, report) if today > case.project_end else []
        return answering + sent
    if report.status is FinalReportStatus.submitted:
        return _report_read(session, case, grantee, report)
    found = claims(session, case)
    if found and found[-1].status in _CLAIM_OPEN:
        return _claim_steps(found[-1], grantee)
    if grantee.follow_up and asked_on(session, case) and follow_up_of(session, case) is None:
        return [Planned("answer_follow_up_through_link", GRANTEE, {"typed": grantee.follow_up})]
    return []


def _answer_day(case: Case, talk: CommunityTalk) -> date:
    """The grantee answers its invitation with its final report, the day after the project
    ended; on the Talk's reply-by day if that comes first (one round, not two)."""
    return min(case.project_end + timedelta(days=1), reply_by(talk))


_TO_SEND = (FinalReportStatus.draft, FinalReportStatus.more_requested)
_CLAIM_OPEN = (RepaymentStatus.drafted, RepaymentStatus.communicated)


def _report_sent(
    session: Session, case: Case, grantee: Grantee, report: FinalReport | None
) -> list[Planned]:
    """The grantee's report through its link: saved first if so scripted, then sent; sent
    again, completed, when the case officer asked for more."""
    asked_more = report is not None and report.status is FinalReportStatus.more_requested
    spent = paid_out(session, case) if grantee.spent is None else grantee.spent
    typed = _report_typed(case, spent, complete=asked_more or not grantee.complete_with)
    if grantee.saves_first and report is None:
        return [Planned("save_final_report_through_link", GRANTEE, {"typed": typed, "uploads": []})]
    return [Planned("submit_final_report_through_link", GRANTEE, {"typed": typed, "uploads": []})]


def _report_read(
    session: Session, case: Case, grantee: Grantee, report: FinalReport
) -> list[Planned]:
    """The case officer asks for what is missing the day after the report came; approves
    it the day after the project's Community Talk (the project reports its results there),
    with the attendance registered first; at once if the project was not invited."""
    if grantee.complete_with and report.more_requested_at is None:
        return [Planned("request_final_report_more", OFFICER, {"reason": grantee.complete_with})]
    plan = []
    if case.state is CaseState.reporting:
        answer = answer_of(session, case)
        if answer is None or answered_talk(session, case).held_on >= clock.today():
            return []
        attended = select(TalkAttendance).where(TalkAttendance.case_id == case.id)
        if session.exec(attended).first() is None:
            came = {"came": str(answer.attendees), "presented_by": answer.presenters}
            plan.append(Planned("record_talk_attendance", OFFICER, came))
    left = unspent(session, case, report)
    plan.append(Planned("approve_final_report", OFFICER, {"claim_unspent": bool(left)}))
    return plan


def _report_typed(case: Case, spent: int, complete: bool) -> ReportTyped:
    """What the grantee types in its report: the grant spent, and the participants per
    group once complete."""
    english = case.language == "en"
    fields = {
        "done": "We did what the plan said."
        if english
        else "Vi genomförde projektet enligt planen.",
        "results": "More young people take part every week."
        if english
        else "Fler deltar varje vecka, och verksamheten fortsätter efter projektet.",
        "partners": "The municipality and the school." if english else "Kommunen och skolan.",
        "learned": "Let the young people lead."
        if english
        else "Låt deltagarna själva leda arbetet.",
        "spent_grant": str(spent),
        "co_financing_cash": "0",
        "co_financing_hours": "120",
    }
    participants = {"children": "12", "young": "25", "adults": "8"} if complete else {}
    return ReportTyped(fields, participants)


_PLANS: dict[CaseState, Callable[[Session, Case, Rules, Script], list[Planned]]] = {
    CaseState.received: _checklist,
    CaseState.awaiting_supplement: _supplement,
    CaseState.in_review: _review,
    CaseState.applicant_meeting: _meeting,
    CaseState.drafting_decision: _draft,
    CaseState.communication: _reply,
    CaseState.awaiting_decision: _sign,
    CaseState.decided: _money,
    CaseState.reporting: _money,
    CaseState.closed: _money,  # the follow-up a year after the project is answered when closed
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


def _finance(settings: Settings) -> int:
    """The finance department's day, after the case officers': the bank's reports of what
    it paid and received are imported, then the payment run makes one payment file of the
    attested orders, once every grant's first instalments are attested, and writes it to
    GRANTS_HOME/payments with its payment order (PDF and CSV), as `grants payments export`
    does. The number of steps taken."""
    if settings.config_file.payments is None or not _finance_registered(settings):
        return 0
    reports = _from_the_bank(settings)
    for content in reports:
        take(settings, "import_bank_report", FINANCE, content=content)
    run = _payment_run_due(settings)
    if run:
        take(settings, "export_payments", FINANCE)
    write_payment_files(settings)
    return len(reports) + run


def _finance_registered(settings: Settings) -> bool:
    """Whether the configuration's finance person is registered: added by the case officer
    when the database was seeded before the configuration named them (people are seeded
    from it once, so the home of a demo run before has none). False if it names nobody."""
    with transaction(settings.db_url) as session:
        if find_person(session, FINANCE) is not None:
            return True
    named = [person for person in settings.config_file.people if person.email == FINANCE]
    if not named:
        return False
    values = named[0].model_dump(exclude={"attestant"}, exclude_none=True)
    take(settings, "add_person", OFFICER, values=values | {"role": named[0].role.value})
    return True


def _from_the_bank(settings: Settings) -> list[bytes]:
    """What the bank reports today, made as a bank would (`grants.bank_simulator`) and kept
    in GRANTS_HOME/bank as it came: a camt.054 of each payment file it paid, booked on the
    file's execution date once that has come; and a camt.054 credit of each repayment claim
    decided before today, which the grantee paid with the claim's OCR reference. Each
    once: the bank's message ids are the file's or the claim's, and a report imported
    before is not made again."""
    today = clock.today()
    iban = settings.config_file.payments.iban if settings.config_file.payments else ""
    with transaction(settings.db_url) as session:
        imported = set(session.exec(select(BankReport.message_id)))
        reports = {}
        for payment_file in session.exec(select(PaymentFile).order_by(col(PaymentFile.id))):
            sent = read_pain001(payment_file.content)
            message_id = f"DBT-{sent.message_id}"
            if message_id not in imported and sent.execution_date <= today:
                reports[message_id] = debit_notification(
                    payment_file.content, sent.execution_date, message_id=message_id
                )
        decided = select(RepaymentClaim).where(RepaymentClaim.status == RepaymentStatus.decided)
        for claim in session.exec(decided.order_by(col(RepaymentClaim.id))):
            message_id = f"CDT-{claim.ocr_reference}"
            if message_id in imported or claim.decided_at is None:
                continue
            if local_time(claim.decided_at).date() < today:
                paid = Credit(
                    claim.ocr_reference, Decimal(owed(claim)), today, claim.case.organisation.name
                )
                reports[message_id] = credit_notification(iban, [paid], message_id=message_id)
    folder = settings.home / "bank"
    for message_id, content in reports.items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message_id}.xml").write_bytes(content)
    return list(reports.values())


def _payment_run_due(settings: Settings) -> bool:
    """Whether the finance department makes a payment file today: attested orders are ready,
    and no scripted grant is still to be decided or has an order still to be attested (the
    call's first payments go in one file; an order held for a changed account follows once
    the account is confirmed)."""
    with transaction(settings.db_url) as session:
        if not ready_to_export(session):
            return False
        for case in list_cases(session):
            script = SCRIPTS.get(case.submission_id)
            if script is None or script.grantee is None:
                continue
            if case.state not in DECIDED:
                return False
            if signed_grant(session, case) is None:
                continue
            orders = orders_of(session, case)
            if not orders or any(o.status is PaymentStatus.prepared for o in orders):
                return False
    return True


def _register_talks(settings: Settings) -> None:
    today = clock.today()
    with transaction(settings.db_url) as session:
        known = {talk.held_on for talk in upcoming_talks(session, today)}
    for held_on, starts_at, ends_at, theme, theme_en, venue, address in TALKS:
        if held_on not in known and held_on > today:
            talk = {"theme": theme, "theme_en": theme_en, "venue": venue, "address": address}
            talk |= {"ends_at": ends_at}
            take(settings, "register_talk", OFFICER, held_on=held_on, starts_at=starts_at, **talk)


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


@dataclass(frozen=True)
class GrantMoney:
    """What happened to one grant's money: the demo's second closing table."""

    case: str
    accepted_by: str  # the signatory and their role; "on paper" when registered so
    account: str  # paid to, now
    paid: int
    paid_on: date | None  # the bank's date of the last payment
    account_change: str  # "" or how a changed account was held and confirmed
    reclaimed: int  # paid back on repayment claims
    claimed: int  # decided or settled repayment claims


def money_summary(settings: Settings) -> tuple[list[GrantMoney], list[Money]]:
    """Per signed grant: who accepted it, the account, what was paid and when, a changed
    account held and confirmed, what was paid back; and each call's budget."""
    with transaction(settings.db_url) as session:
        rows = []
        for case in list_cases(session):
            accepted = acceptance_of(session, case)
            if signed_grant(session, case) is None or accepted is None:
                continue
            paid = [o for o in orders_of(session, case) if o.status is PaymentStatus.paid]
            found = claims(session, case)
            account = current_account(session, case)
            rows.append(
                GrantMoney(
                    case.case_reference,
                    f"{accepted.signatory_name}, {accepted.signatory_role}"
                    + (" (on paper)" if accepted.registered_by else ""),
                    account_text(account) if account else "",
                    sum(order.amount for order in paid),
                    max((order.paid_on for order in paid if order.paid_on), default=None),
                    _account_change(session, case),
                    sum(c.paid_amount for c in found),
                    sum(c.amount for c in found if c.status in _CLAIMED),
                )
            )
        return rows, call_money(session)


_CLAIMED = (RepaymentStatus.decided, RepaymentStatus.settled)


def _account_change(session: Session, case: Case) -> str:
    """Each account given after the acceptance: held from its day, confirmed by whom."""
    changed = session.exec(
        select(PayeeAccount)
        .where(PayeeAccount.case_id == case.id, col(PayeeAccount.needs_confirmation))
        .order_by(col(PayeeAccount.id))
    )
    said = []
    for account in changed:
        given = f"changed {local_time(account.given_at):%Y-%m-%d}, held"
        if account.confirmed_at is None:
            said.append(f"{given}: waits for a second person")
        else:
            confirmer = find_person(session, account.confirmed_by or "")
            by = confirmer.name if confirmer else account.confirmed_by
            on = f"{local_time(account.confirmed_at):%Y-%m-%d}"
            said.append(f"{given} until {by} confirmed it {on}")
    return "; ".join(said)


@dataclass(frozen=True)
class Results:
    """What the grants led to and how the cases ended: the demo's closing lines."""

    reports_approved: list[str]  # the cases whose final report is approved
    more_asked: list[str]  # of them, those asked to complete it first
    unspent_claimed: list[tuple[str, int]]  # unspent by the report, claimed back
    talk_answers: int
    attended: int  # the Talks' attendance registered
    closed: list[tuple[str, date]]  # each case closed, on its day
    cases: int
    follow_ups_answered: list[str]
    open_data: list[str]  # the files written under GRANTS_HOME/open-data


def results_summary(settings: Settings) -> Results:
    """The final reports, the Talks' answers and attendance, the closings, the follow-ups
    answered and the open data written, as the case database and the home hold them."""
    with transaction(settings.db_url) as session:
        cases = list_cases(session)
        reports = [(case, report_of(session, case)) for case in cases]
        approved = [
            (c, r) for c, r in reports if r is not None and r.status is FinalReportStatus.approved
        ]
        closed = session.exec(
            select(Case.case_reference, AuditEvent.at)
            .join(Case, col(Case.id) == AuditEvent.case_id)
            .where(AuditEvent.action == "case_closed")
            .order_by(col(AuditEvent.id))
        ).all()
        results = Results(
            [c.case_reference for c, _ in approved],
            [c.case_reference for c, r in approved if r.more_requested_at is not None],
            [
                (c.case_reference, left)
                for c, r in approved
                if (left := unspent(session, c, r)) and claims(session, c)
            ],
            len(session.exec(select(TalkAnswer.id)).all()),
            len(session.exec(select(TalkAttendance.id)).all()),
            [(reference, local_time(at).date()) for reference, at in closed],
            len(cases),
            [c.case_reference for c in cases if follow_up_of(session, c) is not None],
            sorted(p.name for p in (settings.home / "open-data").glob("*.json")),
        )
    return results
