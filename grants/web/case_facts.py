"""The case officer corrects the applicant's contact and payment facts on the case page,
with a reason: the declared step `correct_case_facts`, as on the command line. The form
shows the facts as they are; only what differs is changed."""

from fastapi import APIRouter
from fastapi.responses import Response

from grants.steps import Taken
from grants.web.i18n import _
from grants.web.office_steps import OnCase
from grants.web.refusals import FIELD_NAMES
from models.case_facts import CORRECTABLE

router = APIRouter(prefix="/cases/{case_reference}")


def _done(taken: Taken) -> str:
    fields = ", ".join(_(FIELD_NAMES[name]) for name in taken.result)
    return _("Corrected: %(fields)s.") % {"fields": fields}


@router.post("/state-aid")
def state_aid(at: OnCase) -> Response:
    """Economic activity as chosen, and the declaration as typed (empty: unchanged)."""
    return at.take(
        "record_state_aid",
        lambda taken: _("State aid recorded."),
        lambda: {
            "economic_activity": {"yes": True, "no": False}.get(at.form.text("economic_activity")),
            "other_aid": at.form.text("other_de_minimis_aid") or None,
        },
    )


@router.post("/facts")
def case_facts(at: OnCase) -> Response:
    """The facts as typed (each form field `facts_<name>`) and the reason."""
    return at.take(
        "correct_case_facts",
        _done,
        lambda: {
            "facts": {name: at.form.text(f"facts_{name}") for name in CORRECTABLE},
            "reason": at.form.text("facts_reason"),
        },
    )
