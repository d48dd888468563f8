"""The grants of a period published as open data (the 360Giving Data Standard), declared
once as `publish_open_data` (case officers and the decision maker, on no case): the command
line writes the package to a folder, the office offers it for download, and the demo calls
`write_open_data` as the command line does.

The package holds every grant of the period: it is what the public gets, so it cannot
depend on who made it (a person with a conflict of interest in one of them is refused).
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from grants.settings import Settings
from grants.steps.layer import DECISION_MAKERS, OFFICERS, At, declare, take
from models.open_data import (
    OpenDataRefused,
    Publisher,
    package_csv,
    package_json,
    package_name,
    publish_open_data,
)

PUBLISHERS = OFFICERS + DECISION_MAKERS


@dataclass(frozen=True)
class OpenDataFiles:
    """The package as its two files: the JSON and the CSV with the standard's titles."""

    package: dict[str, Any]
    json_name: str
    json: bytes
    csv_name: str
    csv: bytes

    @property
    def grants(self) -> int:
        return len(self.package["grants"])


def publisher(settings: Settings) -> Publisher | None:
    """The configuration's [open_data] section as the domain takes it (None: not set)."""
    section = settings.config_file.open_data
    if section is None:
        return None
    return Publisher(
        section.prefix, section.funder_id, section.funder_name, section.license, section.website
    )


@declare("publish_open_data", PUBLISHERS)
def open_data_published(at: At, *, first: date, last: date) -> OpenDataFiles:
    """The package of the grants decided from `first` to `last`, and its two files."""
    configured = publisher(at.settings)
    if configured is None:
        raise OpenDataRefused("open_data.not_configured")
    package = publish_open_data(at.session, at.person, first, last, configured)
    return OpenDataFiles(
        package,
        package_name(configured, first, last, ".json"),
        package_json(package),
        package_name(configured, first, last, ".csv"),
        package_csv(package),
    )


def open_data_dir(settings: Settings) -> Path:
    """Where the exports go unless told otherwise: GRANTS_HOME/open-data."""
    return settings.home / "open-data"


def write_open_data(
    settings: Settings,
    actor_email: str | None,
    first: date,
    last: date,
    out_dir: Path | None = None,
) -> tuple[OpenDataFiles, tuple[Path, Path]]:
    """Take `publish_open_data` and write its two files to `out_dir` (GRANTS_HOME/open-data
    by default), as the command line does: for the demo. Refused, nothing is written."""
    taken = take(settings, "publish_open_data", actor_email, first=first, last=last)
    return taken.result, written(settings, taken.result, out_dir)


def written(
    settings: Settings, files: OpenDataFiles, out_dir: Path | None = None
) -> tuple[Path, Path]:
    """The package's two files written to `out_dir` (GRANTS_HOME/open-data by default)."""
    folder = out_dir if out_dir is not None else open_data_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = folder / files.json_name, folder / files.csv_name
    json_path.write_bytes(files.json)
    csv_path.write_bytes(files.csv)
    return json_path, csv_path
