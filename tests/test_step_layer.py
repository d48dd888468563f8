"""Each step is declared once, in the step layer, and every edge takes it by name: the
command line and the office hold no step of their own, and a step taken in a state it is
not taken in is refused before the domain is reached, with nothing changed."""

import ast
from pathlib import Path

from grants.settings import PROJECT_ROOT
from grants.steps import STEPS
from grants.steps.repayment import REPAYMENT_STEPS
from models.states import CaseState
from tests.helpers import DECISION_MAKER, database_dump, grants

SAMPLES = PROJECT_ROOT / "samples"

EDGES = {"command line": PROJECT_ROOT / "grants" / "cli", "office": PROJECT_ROOT / "grants" / "web"}
DECLARATIONS = PROJECT_ROOT / "grants" / "steps"


def _modules(folder: Path) -> list[ast.Module]:
    return [ast.parse(path.read_text()) for path in sorted(folder.glob("*.py"))]


def _strings(folder: Path) -> set[str]:
    return {
        node.value
        for tree in _modules(folder)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def _imported_from_models(tree: ast.Module) -> set[str]:
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("models")
        for alias in node.names
    }


def test_every_declared_step_is_taken_by_name_on_both_edges() -> None:
    for edge, folder in EDGES.items():
        missing = sorted(set(STEPS) - _strings(folder))
        assert not missing, f"the {edge} does not take {missing}"


def _acting_arguments(call: ast.Call) -> list[str]:
    return [
        argument.attr
        for argument in call.args[:3]
        if isinstance(argument, ast.Attribute)
        and isinstance(argument.value, ast.Name)
        and argument.value.id == "at"
    ]


def _domain_steps() -> set[str]:
    """The domain calls the declarations make on someone's behalf: those given the session
    and the acting person (`at.session, at.case, at.person` or `at.session, at.person`)."""
    return {
        node.func.id
        for tree in _modules(DECLARATIONS)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _acting_arguments(node) in (["session", "case", "person"], ["session", "person"])
    }


def test_no_edge_calls_a_domain_step_itself() -> None:
    domain_steps = _domain_steps()
    assert len(domain_steps) == len(STEPS), sorted(domain_steps)
    for edge, folder in EDGES.items():
        for tree in _modules(folder):
            own = _imported_from_models(tree) & domain_steps
            assert not own, f"the {edge} calls {sorted(own)} past the step layer"
            closures = [
                node.name
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and node.name == "step"
            ]
            assert not closures, f"the {edge} writes a step again as a closure"


def test_declared_states_are_states_a_case_can_be_in_before_the_end() -> None:
    # Sending a letter again, or to a corrected address, moves no case: a closed case's
    # letter must still arrive. The money's steps stay open on a closed case (what is found
    # owed after the closing is still claimed and paid back). A grant may close before its
    # Community Talk (the Talk is no gate of its closing): who came and presented is still
    # recorded.
    paying = (name for name, s in STEPS.items() if s.call.__module__ == "grants.steps.payments")
    at_the_talk = ("record_presentation", "record_talk_attendance")
    after_the_end = ("send_again", "correct_case_facts", *paying, *REPAYMENT_STEPS, *at_the_talk)
    for step in (s for s in STEPS.values() if s.name not in after_the_end):
        assert CaseState.closed not in step.states, step.name
        assert len(set(step.states)) == len(step.states), step.name


def test_a_step_out_of_its_state_is_refused_by_the_layer_and_changes_nothing(
    grants_home: Path,
) -> None:
    taken_in = grants("intake", str(SAMPLES / "applications.json"), "--no-letters")
    assert taken_in.exit_code == 0, taken_in.output
    reference = next(
        w for w in grants("status", "--as", DECISION_MAKER).output.split() if "RS" in w
    )
    before = database_dump(grants_home)
    refused = grants("sign", reference, "--as", DECISION_MAKER, ok=False)
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    expected = "the step 'sign' is taken only while it is 'awaiting_decision'"
    assert f"case {reference} is 'received'; {expected}" in said
    assert database_dump(grants_home) == before
