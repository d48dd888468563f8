"""The steps on a final report (models.final_reports), declared once: the case officer
approves it (and may start the repayment claim for money unspent) or asks for more with a
reason. And the grantee's own steps through its personal link, which no person signs in for:
saving the report to come back to (`take_report_save`) and submitting it
(`take_report_submit`). Edges take the declared ones by name through `grants.steps.take`."""

from collections.abc import Callable

from grants.settings import Settings
from grants.steps.layer import OFFICERS, At, Taken, declare
from models.cases import find_case
from models.db import transaction
from models.delivery import pending
from models.final_reports import (
    REPORTING_STATES,
    Approval,
    Typed,
    approve_report,
    request_more,
    save_report,
    submit_report,
)
from models.states import StepNotNow
from models.tables import Case, FinalReport

# The case officer decides on a report while the grant stands (a case closes only after).
DECIDED_ON = list(REPORTING_STATES)
Uploads = list[tuple[str, bytes]]


@declare("approve_final_report", OFFICERS, DECIDED_ON)
def approval(at: At, *, claim_unspent: bool = False) -> Approval:
    return approve_report(at.session, at.case, at.person, claim_unspent)


@declare("request_final_report_more", OFFICERS, DECIDED_ON)
def more_asked(at: At, *, reason: str) -> FinalReport:
    return request_more(at.session, at.case, at.person, reason)


def take_report_save(
    settings: Settings, case_reference: str, typed: Typed, uploads: Uploads
) -> Taken:
    """The grantee's report saved through its link, to come back to: all or nothing."""
    return _grantee(settings, case_reference, "save_final_report", save_report, typed, uploads)


def take_report_submit(
    settings: Settings, case_reference: str, typed: Typed, uploads: Uploads
) -> Taken:
    """The grantee's report sent to the case officer through its link: all or nothing."""
    return _grantee(settings, case_reference, "submit_final_report", submit_report, typed, uploads)


def _grantee(
    settings: Settings,
    case_reference: str,
    step: str,
    domain: Callable[..., FinalReport],
    typed: Typed,
    uploads: Uploads,
) -> Taken:
    with transaction(settings.db_url) as session:
        case: Case = find_case(session, case_reference, lock=True)
        if case.state not in REPORTING_STATES:
            raise StepNotNow(
                "state.step_not_now",
                case_reference=case_reference,
                state=case.state,
                step=step,
                states=REPORTING_STATES,
            )
        result = domain(session, case, typed, uploads)
        to_send = pending(session)
    return Taken(result, to_send, state=case.state)
