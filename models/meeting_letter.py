"""What a meeting invitation says about the meeting's length, worked out once for both
languages: whether it ends the day it starts, and how long it lasts."""

from datetime import datetime
from typing import Any

from models.tables import local_time


def meeting_letter(data: dict[str, Any]) -> dict[str, Any]:
    """The meeting's length from the letter's data (models.meetings), in Swedish time."""
    starts = local_time(datetime.fromisoformat(data["starts_at"]))
    ends = local_time(datetime.fromisoformat(data["ends_at"]))
    minutes = (ends.hour - starts.hour) * 60 + ends.minute - starts.minute
    return {
        "same_day": starts.date() == ends.date(),
        "minutes": minutes,
        "hours": minutes // 60,
        "rest": minutes % 60,
    }
