"""The assessment rules a region sets in its configuration file, with their defaults.

The advisory group and its quorum are not among them: they live in the database
(models.people), seeded from the file at the first start."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rules:
    supplement_working_days: int = 10
    supplement_reminder_working_days: int = 3
    review_working_days: int = 10
    meeting_minutes: int = 90
    meeting_hours: str = "08:00-17:00"  # office hours: meetings start and end within them
    communication_working_days: int = 10
    delegation_point: str = "kulturnämndens delegationsordning"
    delegation_point_en: str = "the Cultural Affairs Committee's delegation rules"
    final_report_months: int = 2

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Rules":
        """The rules of the file's [assessment] and [decision]. The quorum and the advisory
        group are not rules of the file but the database's (models.people.advisory_group):
        the file only seeds them."""
        assessment = dict(config.get("assessment", {}))
        assessment.pop("review_quorum", None)
        return cls(**assessment, **config.get("decision", {}))
