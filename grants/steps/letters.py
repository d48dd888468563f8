"""The one step on a case's letters themselves, declared once: sending again those that
could not be delivered. Edges take it by name through `grants.steps.take`."""

from grants.steps.layer import OFFICERS, At, declare
from models.delivery import send_again
from models.states import CaseState
from models.tables import Letter


# Any state, closed too: a letter of the case is the authority's to deliver until it has
# arrived, and sending it again changes nothing else in the case.
@declare("send_again", OFFICERS, list(CaseState))
def letters_again(at: At) -> list[Letter]:
    return send_again(at.session, at.case, at.person)
