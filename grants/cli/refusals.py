"""A refusal as the command line says it: the domain's plain English sentence, except where
the command line can say how to go on with its own commands and options.

The domain names no edge (`models.errors`); the commands and options are this edge's."""

from models.errors import Refused, sentence

# Where the command line words a refusal its own way: its options and commands named.
WORDING = {
    "access.who_acts": "say who acts: --as EMAIL (or GRANTS_AS) of a registered person",
    "review.undeclared": "{name} must first declare any conflict of interest for "
    "{case_reference} (grants declare)",
    "decision.not_communicated": "case {case_reference}: the draft is '{outcome}' and the "
    "applicant has not seen it; communicate it first (grants communicate), or record why that "
    "is obviously unnecessary (FL 25 §)",
    "material.not_communicated": "case {case_reference}: the draft rests on material from "
    "others that the applicant has not been given: {sources}; communicate it first (grants "
    "communicate; send a draft with the decision maker back first) (FL 25 §)",
    "material.unsettled": "case {case_reference}: the draft (version {version}) changed after "
    "the communication of version {communicated}; register the new material from others "
    "(grants material) and communicate again (grants communicate), or record that nothing new "
    "from others is added (grants submit-draft --nothing-new-from-others) (FL 25 §)",
    "decision.no_reviews": "outcome: no reviews to go on; give --outcome",
    "decision.reviews_ask_supplement": "outcome: the reviews ask for a supplement; request it "
    "or give --outcome",
    "account.one": "give one account: --bankgiro, --plusgiro, or --clearing with --account "
    "(given: {given})",
    "open_data.period": "--to {last} is before --from {first}",
    "talk_attendance.came": "--came {came!r}: give how many came, a whole number from 0 to {most}",
    "talk_attendance.presented_by": "--presented-by {presented_by!r}: give who presented (at "
    "most {longest} characters), and how many came (--came)",
    "account.same_person": "{email} registered the change of account of {case_reference}; "
    "another person confirms it (grants account confirm --as THEIR-EMAIL)",
}


def worded(refusal: Refused) -> str:
    """What the command line says of `refusal`."""
    template = WORDING.get(refusal.code)
    return str(refusal) if template is None else sentence(template, refusal.params)
