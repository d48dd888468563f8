"""The one step layer: every edge (command line, office) takes a person's step through here.

who acts → which role → case locked and conflict checked → the step's state → domain step
→ audit → commit → the follow-up started. Each step is declared once (`declare`, in
`grants.steps.acceptance`, `assessment`, `bank`, `closing`, `decisions`, `final_report`,
`letters`, `open_data`, `payments`, `people`, `repayment` and `talks`): its name, who may take
it, the states it is taken in, its parameters and the domain call; the edges take it by name
(`take`) and word its result and its refusals in their own language. The domain refuses
what the law or the state machine does not allow (`Refused`); this layer makes sure a
refusal changes nothing, and that the letters a step ordered are sent only after its
transaction committed.
"""

from grants.steps import (
    acceptance,
    assessment,
    bank,
    closing,
    decisions,
    final_report,
    letters,
    open_data,
    payments,
    people,
    repayment,
    talks,
)
from grants.steps.layer import (
    ADMINISTRATORS,
    DECISION_MAKERS,
    FINANCE,
    OFFICERS,
    PEOPLE,
    REVIEWERS,
    STEPS,
    At,
    DeclaredStep,
    HandedOver,
    LetterToBe,
    Rehearsal,
    Taken,
    configured,
    not_delivered,
    reading,
    rehearse,
    send_follow_up,
    take,
    take_applicant_answer,
)

__all__ = [
    "ADMINISTRATORS",
    "DECISION_MAKERS",
    "FINANCE",
    "OFFICERS",
    "PEOPLE",
    "REVIEWERS",
    "STEPS",
    "At",
    "DeclaredStep",
    "HandedOver",
    "LetterToBe",
    "Rehearsal",
    "Taken",
    "acceptance",
    "assessment",
    "bank",
    "closing",
    "configured",
    "decisions",
    "final_report",
    "letters",
    "not_delivered",
    "open_data",
    "payments",
    "people",
    "reading",
    "rehearse",
    "repayment",
    "send_follow_up",
    "take",
    "take_applicant_answer",
    "talks",
]
