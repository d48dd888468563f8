"""The assessment rules a region sets in its configuration file, with their defaults."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rules:
    supplement_working_days: int = 10
    supplement_reminder_working_days: int = 3
    review_working_days: int = 10
    review_quorum: int = 2
    meeting_minutes: int = 90
    meeting_hours: str = "08:00-17:00"  # office hours: meetings start and end within them
    advisory_group: tuple[str, ...] = field(default_factory=tuple)  # reviewers' e-mails
    include_case_officer: bool = True
    communication_working_days: int = 10
    delegation_point: str = "kulturnämndens delegationsordning"
    delegation_point_en: str = "the Cultural Affairs Committee's delegation rules"
    final_report_months: int = 2

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Rules":
        assessment = dict(config.get("assessment", {}))
        group = config.get("advisory_group", {})
        return cls(
            **assessment,
            **config.get("decision", {}),
            advisory_group=tuple(m.strip().lower() for m in group.get("members", ())),
            include_case_officer=group.get("include_case_officer", True),
        )
