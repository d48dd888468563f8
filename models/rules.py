"""The assessment rules a region sets in its configuration file, with their defaults.

The advisory group and its quorum are not among them: they live in the database
(models.people), seeded from the file at the first start."""

from dataclasses import dataclass
from datetime import date
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
    # What every grant decision states: the Region's competence, the
    # day the committee adopted the guidelines, and the terms of payment, reporting and
    # repayment, in days.
    legal_basis: str = "2 kap. 1 och 2 §§ kommunallagen (2017:725)"
    legal_basis_en: str = "Chapter 2, sections 1 and 2 of the Local Government Act (2017:725)"
    guidelines_adopted_on: date | None = None
    payment_days: int = 30  # after the applicant accepted the conditions
    report_grace_days: int = 30  # after the reminder of a final report not in on time
    repayment_days: int = 30  # an invoice for money to be repaid falls due
    # De minimis aid (models.state_aid): kronor in euro at this rate, named in the decision.
    sek_per_euro: float = 11.0
    rate_source: str = "Europeiska kommissionens omräkningskurs (InforEuro)"
    rate_source_en: str = "the European Commission's accounting rate (InforEuro)"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Rules":
        """The rules of the file's [assessment] and [decision]. The quorum and the advisory
        group are not rules of the file but the database's (models.people.advisory_group):
        the file only seeds them."""
        assessment = dict(config.get("assessment", {}))
        assessment.pop("review_quorum", None)
        return cls(**assessment, **config.get("decision", {}), **config.get("state_aid", {}))
