"""The steps on a case's letters and where they go, declared once: sending again those that
could not be delivered, and correcting the applicant's contact and payment facts (which
re-addresses them). Edges take them by name through `grants.steps.take`."""

from typing import Any

from grants.steps.layer import OFFICERS, At, declare
from models.case_facts import correct_case_facts
from models.delivery import send_again
from models.states import CaseState
from models.tables import Letter


# Any state, closed too: a letter of the case is the authority's to deliver until it has
# arrived, and sending it again changes nothing else in the case.
@declare("send_again", OFFICERS, list(CaseState))
def letters_again(at: At) -> list[Letter]:
    return send_again(at.session, at.case, at.person)


# Any state, closed too: the applicant's address and bank details are the authority's to
# put right as long as it writes to or pays the applicant; a corrected e-mail address takes
# the letters that have not arrived with it.
@declare("correct_case_facts", OFFICERS, list(CaseState))
def case_facts(at: At, *, facts: dict[str, str], reason: str) -> dict[str, Any]:
    return correct_case_facts(at.session, at.case, at.person, facts=facts, reason=reason)
