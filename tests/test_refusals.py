"""The domain speaks in codes, the edges in words: every refusal the domain can raise has a
wording in the office (Swedish and English) and on the command line, and nothing in
`models/` names a command or an option of the command line."""

import ast
import importlib
import pickle
import pkgutil
import re
import string
from typing import NamedTuple

import pytest
import typer.main

import models
from grants.cli import app
from grants.cli.refusals import WORDING as COMMAND_LINE_WORDING
from grants.cli.refusals import worded as said_on_the_command_line
from grants.settings import PROJECT_ROOT
from grants.web.i18n import language, translations
from grants.web.labels import ACTIONS, DOCUMENT_KINDS, action_label, document_kind_label
from grants.web.refusals import WORDING as OFFICE_WORDING
from grants.web.refusals import worded as said_in_the_office
from models.checklist import ChecklistError
from models.errors import MESSAGES, Refused
from models.states import CaseState, IllegalTransition
from models.tables import Criterion

for module in pkgutil.iter_modules(models.__path__):
    importlib.import_module(f"models.{module.name}")  # every kind of refusal registered

SOURCES = [*(PROJECT_ROOT / "models").glob("*.py"), *(PROJECT_ROOT / "grants").rglob("*.py")]


def refusal_kinds() -> set[str]:
    """The names of Refused and all its subclasses."""
    kinds, todo = set(), [Refused]
    while todo:
        kind = todo.pop()
        kinds.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return kinds


def literal_codes(node: ast.expr) -> list[str] | None:
    """The codes a refusal's first argument can be: a literal, or a choice of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = literal_codes(node.body), literal_codes(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


class Raised(NamedTuple):
    """One place a refusal is raised: where, and the parameters it is given by name (None
    when some are passed on as **mapping, so not all are known here)."""

    where: str
    params: set[str] | None


def raised_codes() -> dict[str, list[Raised]]:
    """Every code given to a refusal in the source, with where; a code that is not written
    out as a literal is listed under the empty code."""
    kinds, found = refusal_kinds(), {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in kinds or not node.args:
                continue
            names = {k.arg for k in node.keywords}
            raised = Raised(
                f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}",
                None if None in names else names,
            )
            for code in literal_codes(node.args[0]) or [""]:
                found.setdefault(code, []).append(raised)
    return found


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_every_refusal_raised_is_a_known_code_and_every_code_is_raised() -> None:
    raised = raised_codes()
    assert "" not in raised, f"a refusal whose code is not written out: {raised['']}"
    unknown = {code: where for code, where in raised.items() if code not in MESSAGES}
    assert not unknown, f"codes with no neutral sentence in a `messages`: {unknown}"
    assert set(MESSAGES) == set(raised), f"codes never raised: {set(MESSAGES) - set(raised)}"
    assert len(MESSAGES) > 80


def test_every_refusal_is_given_what_its_wordings_name() -> None:
    for code, places in raised_codes().items():
        named = fields(MESSAGES[code]) | placeholders(OFFICE_WORDING[code])
        for where, params in places:
            assert params is None or named <= params, (code, where, named - params)


def test_every_code_has_an_office_wording_in_swedish_and_english() -> None:
    assert set(OFFICE_WORDING) == set(MESSAGES)
    swedish = translations("sv")
    for code, english in OFFICE_WORDING.items():
        translated = swedish.gettext(english)
        assert translated != english, f"{code} has no Swedish wording: {english!r}"
        assert placeholders(translated) == placeholders(english), code


def test_the_command_line_words_every_code_and_only_with_the_domains_parameters() -> None:
    assert set(COMMAND_LINE_WORDING) <= set(MESSAGES)
    for code, template in COMMAND_LINE_WORDING.items():
        assert fields(template) <= fields(MESSAGES[code]), code


def commands() -> set[str]:
    return set(typer.main.get_command(app).commands)


def test_no_string_in_models_names_a_command_or_an_option() -> None:
    command = re.compile(rf"\bgrants ({'|'.join(map(re.escape, commands()))})\b")
    option = re.compile(r"(?<![\w-])--[a-z]")
    named = []
    for path in (PROJECT_ROOT / "models").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and (command.search(text) or option.search(text)):
                named.append(f"{path.name}:{node.lineno}: {text!r}")
    assert not named, "\n".join(named)


def refused(code: str, kind: type[Refused] = ChecklistError, **params: object) -> Refused:
    return kind(code, **params)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("sv", "Besvara varje grundkrav. Saknas: Samhällsnytta, Nytt lokalt."),
        ("en", "Answer every basic requirement. Missing: Benefit to society, New locally."),
    ],
)
def test_the_office_names_criteria_by_their_names(lang: str, expected: str) -> None:
    refusal = refused(
        "checklist.unanswered", missing=[Criterion.benefit_to_society, Criterion.new_locally]
    )
    with language(lang):
        assert said_in_the_office(refusal) == expected
    assert (
        str(refusal) == "answer every basic requirement; missing: benefit_to_society, new_locally"
    )


def test_the_office_names_states_by_their_names_and_the_command_line_by_codes() -> None:
    refusal = refused(
        "state.illegal",
        IllegalTransition,
        case_reference="26RS7",
        state=CaseState.received,
        wanted=CaseState.decided,
        allowed=[CaseState.in_review, CaseState.closed],
    )
    with language("sv"):
        assert said_in_the_office(refusal) == (
            "Ärende 26RS7 har status ”Inkom” och kan inte gå vidare till ”Beslutat”; härifrån "
            "kan det gå vidare till: Granskas, Avslutat."
        )
    assert said_on_the_command_line(refusal) == (
        "Case 26RS7 is 'received' and cannot move to 'decided'; allowed next: in_review, closed."
    )


def test_the_command_line_names_its_own_options_where_the_domain_names_none() -> None:
    from models.decisions import DecisionError

    refusal = refused("decision.no_reviews", DecisionError)
    assert str(refusal) == "outcome: no reviews to go on; give the outcome"
    assert said_on_the_command_line(refusal) == "outcome: no reviews to go on; give --outcome"
    with language("sv"):
        assert said_in_the_office(refusal) == "Det finns inga granskningar att gå på: välj utfall."


def test_an_unknown_code_is_a_programming_error_not_a_refusal() -> None:
    with pytest.raises(TypeError, match="unknown refusal code"):
        ChecklistError("checklist.no_such_code")


def test_a_refusal_survives_being_sent_to_another_process() -> None:
    refusal = refused("checklist.unanswered", missing=[Criterion.innovative])
    again = pickle.loads(pickle.dumps(refusal))
    assert (type(again), again.code, again.params) == (ChecklistError, refusal.code, refusal.params)
    assert str(again) == "answer every basic requirement; missing: innovative"


def recorded_codes(argument: dict[str, int]) -> dict[str, str]:
    """Every code written out as the `argument[name]`th argument of a call to `name` in the
    source (models, flows, grants), with where."""
    found = {}
    for path in [*SOURCES, *(PROJECT_ROOT / "flows").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            at = argument.get(getattr(node.func, "id", getattr(node.func, "attr", "")))
            if at is not None and len(node.args) > at:
                for code in literal_codes(node.args[at]) or []:
                    found[code] = f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
    return found


def test_every_action_and_kind_of_document_on_record_has_a_name_in_both_languages() -> None:
    """The case's history and its documents are shown by name, never by code ("applicant
    message filed", "communication_reply")."""
    actions = recorded_codes({"record": 3, "move": 4})
    kinds = recorded_codes({"file_document": 3})
    assert len(actions) > 30 and set(kinds) >= {"supplement", "communication_reply"}
    assert {code: where for code, where in actions.items() if code not in ACTIONS} == {}
    assert {code: where for code, where in kinds.items() if code not in DOCUMENT_KINDS} == {}
    with language("sv"):
        untranslated = [
            code
            for code, label, english in [
                *((code, action_label(code), ACTIONS[code]) for code in actions),
                *((kind, document_kind_label(kind), DOCUMENT_KINDS[kind]) for kind in kinds),
            ]
            if label == english
        ]
    assert untranslated == []
