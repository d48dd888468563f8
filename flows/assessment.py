"""Flows that follow people's steps: the sweep, and the letters a step ordered.

People act through the command line or the office; the step layer (`grants.steps`) checks
and records each step in the domain and then has the letters it ordered sent
(`send_follow_up`). The sweep runs on a schedule and does
what time alone makes due: supplement reminders and deadlines, overdue review reminders,
communication deadlines, Community Talk invitations for funded projects, the reminder
of a repayment claim unpaid past its due date, the final report's reminders, the follow-up
a year after a funded project ended (and its reminder), and the
closing of each case whose gates are all open (models.closing).
"""

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.letters import send_letters
from grants.anchors import anchor, read_anchors
from grants.render import embedded_facts, seal_check
from grants.settings import Settings, load
from models import clock
from models.closing import close_cases
from models.communication import sweep_communications
from models.community_talks import invite_to_talks
from models.db import transaction
from models.delays import notify_delays
from models.final_reports import remind_final_reports
from models.follow_ups import send_follow_ups
from models.integrity import tell_anchor, tell_officers, verify
from models.repayment import remind_overdue_claims
from models.reviews import remind_overdue
from models.supplements import sweep_supplements


@task(cache_policy=NO_CACHE)
def sweep_cases(settings: Settings, today: date) -> dict[str, int]:
    """Everything due by the calendar, in one transaction: done once however often run."""
    rules = settings.rules
    with transaction(settings.db_url) as session:
        done = sweep_supplements(session, today, rules)
        done["review_reminders"] = remind_overdue(session, today)
        done["communications_expired"] = sweep_communications(session, today, rules)
        done["talk_invitations"] = invite_to_talks(session, today)
        done["delay_notices"] = notify_delays(session, today)
        done["repayment_reminders"] = remind_overdue_claims(session, today)
        done["final_report_reminders"] = remind_final_reports(session, today)
        done["follow_ups"] = send_follow_ups(session, today)
        done["cases_closed"] = close_cases(session, today)
    return done


@task(cache_policy=NO_CACHE)
def verify_records(settings: Settings, today: date) -> int:
    """`grants verify` on schedule: the case officers are told of anything found changed.
    Then the trail's head is anchored outside the database (the log, anchors.log) and
    e-mailed to the case officers (once a day, if the trail grew)."""
    with transaction(settings.db_url) as session:
        found = verify(
            session,
            settings.audit_chain_key,
            read_anchors(settings),
            embedded_facts,
            seal_check(settings.seal),
        )
    written = anchor(settings)
    with transaction(settings.db_url) as session:
        tell_officers(session, found, written.line if written else None)
        if written is not None:
            tell_anchor(session, written.line, written.event_id, today)
    if found:
        get_run_logger().warning("integrity: %d mismatch(es), see grants verify", len(found))
    return len(found)


@flow(name="sweep")
def sweep(today: date | None = None) -> dict[str, int]:
    """The scheduled sweep: move on what the calendar made due, check the records, then send
    what that ordered."""
    settings = load()
    done = sweep_cases(settings, today or clock.today())
    done["integrity_mismatches"] = verify_records(settings, today or clock.today())
    get_run_logger().info("sweep: %s", done)
    return done | send_letters()
