"""Commands for administering the office: the people who act in it and the advisory group.

The case officer administers the office; every change goes through the step layer
(`add_person`, `change_person`, `change_advisory_group`) and into the audit trail."""

from typing import Annotated, Any

import typer
from rich.table import Table

from grants.cli.common import AsOption, act, fail, out, settings_checked, shown
from grants.cli.refusals import worded
from grants.steps import ADMINISTRATORS, reading
from models.errors import Refused
from models.people import Group, advisory_group, people

app = typer.Typer(help="The people who act in the office, and the advisory group.")
people_app = typer.Typer(
    help="The people who act in the office and the advisory group (the case officer's).",
    no_args_is_help=True,
)
app.add_typer(people_app, name="people")

EmailArg = Annotated[str, typer.Argument(help="The person's e-mail.")]
NameOption = Annotated[str | None, typer.Option("--name", help="Full name.")]
EmailOption = Annotated[str | None, typer.Option("--email", help="E-mail (how they sign in).")]
ROLES_HELP = "case_officer, advisor, decision_maker, finance, organiser or committee."
RoleOption = Annotated[str | None, typer.Option("--role", help=ROLES_HELP)]
OrganisationOption = Annotated[
    str | None, typer.Option("--organisation", help="Their own organisation (for conflicts).")
]
TitleOption = Annotated[str | None, typer.Option("--title", help="Title, in Swedish.")]
TitleEnOption = Annotated[str | None, typer.Option("--title-en", help="Title, in English.")]
PhoneOption = Annotated[
    str | None, typer.Option("--phone", help="Direct telephone number, given in letters.")
]
GroupOption = Annotated[
    bool | None,
    typer.Option("--advisory-group/--not-advisory-group", help="Whether they review every case."),
]
AttestantOption = Annotated[
    bool | None,
    typer.Option(
        "--attestant/--not-attestant",
        help="Whether they attest payment orders, as the decision maker does.",
    ),
]


@people_app.command("list")
def list_command(actor: AsOption = None) -> None:
    """Everyone registered, with their role and whether they are active; then the group."""
    settings = settings_checked()
    try:
        with reading(settings, actor, ADMINISTRATORS) as (session, _reader):
            everyone = people(session)
            group = advisory_group(session)
            rows = [
                (
                    p.name,
                    p.email,
                    p.role.value + (", attestant" if p.attestant else ""),
                    p.organisation,
                    _yes(p.in_advisory_group),
                    _yes(p.active),
                )
                for p in everyone
            ]
    except Refused as refusal:
        raise fail(worded(refusal)) from None
    table = Table(title=f"{len(rows)} person(s)", title_justify="left")
    for column in ("Name", "E-mail", "Role", "Organisation", "Advisory group", "Active"):
        table.add_column(column, overflow="fold")
    for name, email, role, organisation, member, active in rows:
        cells = (
            name,
            email,
            role,
            organisation,
            "yes" if member else "",
            "yes" if active else "no",
        )
        table.add_row(*(shown(cell) for cell in cells))
    out.print(table)
    out.print(_group_said(group), highlight=False)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _group_said(group: Group) -> str:
    officer = " and the case's officer" if group.include_case_officer else ""
    return (
        f"Advisory group: {len(group.members)} member(s){officer}; "
        f"{group.review_quorum} review(s) move a case on."
    )


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@people_app.command("add")
def add_command(
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    email: Annotated[str, typer.Option("--email", help="E-mail (how they sign in).")],
    role: Annotated[str, typer.Option("--role", help=ROLES_HELP)],
    organisation: Annotated[
        str, typer.Option("--organisation", help="Their own organisation (for conflicts).")
    ],
    title: TitleOption = None,
    title_en: TitleEnOption = None,
    phone: PhoneOption = None,
    in_group: GroupOption = None,
    attestant: AttestantOption = None,
    actor: AsOption = None,
) -> None:
    """Register a new person; with --advisory-group they review every new case, with
    --attestant they attest payment orders."""
    values = _given(
        name=name,
        email=email,
        role=role,
        organisation=organisation,
        title=title,
        title_en=title_en,
        phone=phone,
    )
    act(
        "add_person",
        None,
        actor,
        lambda taken: f"Added {taken.result.name} <{taken.result.email}>, {taken.result.role}.",
        values=values,
        in_advisory_group=bool(in_group),
        attestant=bool(attestant),
    )


@people_app.command("change")
def change_command(
    email: EmailArg,
    name: NameOption = None,
    new_email: EmailOption = None,
    role: RoleOption = None,
    organisation: OrganisationOption = None,
    title: TitleOption = None,
    title_en: TitleEnOption = None,
    phone: PhoneOption = None,
    in_group: GroupOption = None,
    attestant: AttestantOption = None,
    actor: AsOption = None,
) -> None:
    """Change what is given of a person (an empty --title or --phone removes it)."""
    values = _given(
        name=name,
        email=new_email,
        role=role,
        organisation=organisation,
        title=title,
        title_en=title_en,
        phone=phone,
    )
    act(
        "change_person",
        None,
        actor,
        lambda taken: f"Changed {taken.result.name} <{taken.result.email}>.",
        email=email,
        values=values,
        in_advisory_group=in_group,
        attestant=attestant,
    )


@people_app.command("deactivate")
def deactivate_command(email: EmailArg, actor: AsOption = None) -> None:
    """Deactivate a person: they sign in no more and are assigned nothing; what they did
    keeps their name."""
    act(
        "change_person",
        None,
        actor,
        lambda taken: f"Deactivated {taken.result.name} <{taken.result.email}>.",
        email=email,
        values={},
        active=False,
    )


@people_app.command("activate")
def activate_command(email: EmailArg, actor: AsOption = None) -> None:
    """Make a deactivated person active again."""
    act(
        "change_person",
        None,
        actor,
        lambda taken: f"Activated {taken.result.name} <{taken.result.email}>.",
        email=email,
        values={},
        active=True,
    )


@people_app.command("group")
def group_command(
    quorum: Annotated[
        int | None, typer.Option("--quorum", help="Reviews that move a case on.")
    ] = None,
    include_case_officer: Annotated[
        bool | None,
        typer.Option(
            "--include-case-officer/--without-case-officer",
            help="Whether the case's officer reviews too.",
        ),
    ] = None,
    actor: AsOption = None,
) -> None:
    """Set the advisory group's quorum and whether the case officer reviews; members are
    set person by person (grants people change EMAIL --advisory-group)."""
    act(
        "change_advisory_group",
        None,
        actor,
        lambda taken: _group_said(taken.result),
        review_quorum=quorum,
        include_case_officer=include_case_officer,
    )
