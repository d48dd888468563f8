"""The gates that hold a case's closing (models.closing), as the office words them: each a
question answered yes or no, in the reader's language."""

from typing import Any

from grants.render import format_date
from grants.web.i18n import N_, _, current_language
from models.closing import Gate

QUESTIONS = {
    "decision_signed": N_("Decision signed"),
    "final_report_approved": N_("Final report approved"),
    "payment_paid": N_("Payment %(payment)s paid"),
    "repayment_settled": N_("Repayment claim %(number)s settled"),
    "notice_board_day": N_(
        "Notice board's day registered for the decisions signed on %(signed_on)s"
    ),
    "appeal_time_out": N_("Time for appeal run out (last day %(last_day)s)"),
    "appeal_ruled": N_(
        "Appeal %(number)s by %(appellant)s ruled (%(court)s, %(court_case_number)s)"
    ),
}
DATES = ("signed_on", "last_day")


def worded(gate: Gate) -> dict[str, Any]:
    """One gate for the case page: its question and whether it is open."""
    language = current_language()
    values = {
        name: format_date(value, language) if name in DATES else value
        for name, value in gate.params.items()
    }
    return {"code": gate.code, "question": _(QUESTIONS[gate.code]) % values, "met": gate.met}
