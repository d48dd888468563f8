"""The domain's names for the four basic requirements and for a finding on one, in Swedish
and English, by code.

Letters, office pages, the command line and reports all read these, so a requirement is
called the same wherever an applicant, an officer or the committee meets it.
"""

from models.tables import Answer, Criterion, FormalRequirement

CRITERION_NAMES: dict[Criterion, dict[str, str]] = {
    Criterion.benefit_to_society: {"sv": "Samhällsnytta", "en": "Benefit to society"},
    Criterion.innovative: {
        "sv": "Nyskapande med långsiktiga och hållbara effekter",
        "en": "Innovative, with long-term and sustainable effects",
    },
    Criterion.new_locally: {"sv": "Nytt lokalt", "en": "New locally"},
    Criterion.anchored_with_partners: {
        "sv": "Förankrat hos samarbetspartner",
        "en": "Anchored with partners",
    },
}

# The formal requirements (FL 20 §), apart from the four: a gap in one is a supplement's matter.
FORMAL_NAMES: dict[FormalRequirement, dict[str, str]] = {
    FormalRequirement.identity: {
        "sv": "Sökandens identitet och organisationsnummer",
        "en": "The applicant's identity and organisation number",
    },
    FormalRequirement.signatory: {
        "sv": "Behörig firmatecknare",
        "en": "A signatory with authority to sign",
    },
    FormalRequirement.complete: {"sv": "Fullständig ansökan", "en": "A complete application"},
}

# A finding as it follows a requirement's name: "Nytt lokalt: inte uppfyllt".
FINDING_WORDS: dict[Answer, dict[str, str]] = {
    Answer.met: {"sv": "uppfyllt", "en": "met"},
    Answer.not_met: {"sv": "inte uppfyllt", "en": "not met"},
    Answer.unclear: {"sv": "oklart", "en": "unclear"},
}


def criterion_name(criterion: Criterion | str, language: str) -> str:
    """A requirement's name in `language` ("sv" or "en")."""
    return CRITERION_NAMES[Criterion(criterion)][language]


def criterion_names(language: str) -> dict[str, str]:
    """Every requirement's name in `language`, by code, in the guidelines' order."""
    return {criterion.value: names[language] for criterion, names in CRITERION_NAMES.items()}


def finding_words(language: str) -> dict[str, str]:
    """What a finding is called after a requirement's name in `language`, by code."""
    return {answer.value: words[language] for answer, words in FINDING_WORDS.items()}


def formal_name(requirement: FormalRequirement | str, language: str) -> str:
    """A formal requirement's name in `language` ("sv" or "en")."""
    return FORMAL_NAMES[FormalRequirement(requirement)][language]


def formal_names(language: str) -> dict[str, str]:
    """Every formal requirement's name in `language`, by code."""
    return {requirement.value: names[language] for requirement, names in FORMAL_NAMES.items()}
