"""The steps of administering the office, each declared once: adding and changing people
(deactivating them too) and setting the advisory group's rules. The case officer
administers the office (README, "People and the advisory group"). Edges take them by name
through `grants.steps.take`."""

from typing import Any

from grants.steps.layer import ADMINISTRATORS, At, declare
from models.people import Group, add_person, change_advisory_group, change_person
from models.tables import Person


@declare("add_person", ADMINISTRATORS)
def person_added(
    at: At, *, values: dict[str, Any], in_advisory_group: bool = False, attestant: bool = False
) -> Person:
    return add_person(
        at.session,
        at.person,
        values=values,
        in_advisory_group=in_advisory_group,
        attestant=attestant,
    )


@declare("change_person", ADMINISTRATORS)
def person_changed(
    at: At,
    *,
    email: str,
    values: dict[str, Any],
    in_advisory_group: bool | None = None,
    active: bool | None = None,
    attestant: bool | None = None,
) -> Person:
    return change_person(
        at.session,
        at.person,
        email,
        values=values,
        in_advisory_group=in_advisory_group,
        active=active,
        attestant=attestant,
    )


@declare("change_advisory_group", ADMINISTRATORS)
def group_changed(
    at: At, *, review_quorum: int | None = None, include_case_officer: bool | None = None
) -> Group:
    return change_advisory_group(
        at.session,
        at.person,
        review_quorum=review_quorum,
        include_case_officer=include_case_officer,
    )
