"""Sweden's municipalities as published statistics and open data name them: the official
name and the four-digit municipality code (kommunkod) of Statistics Sweden (SCB), the
county's two digits first (18 for Örebro län).

Applicants give their municipality by its short name (models.validation.MUNICIPALITIES,
the call's county); a file that others read joins on the code, which does not change when
a name is written another way. A municipality outside this table has no code here: the
exports that need one refuse it rather than guess.
"""

from typing import NamedTuple


class Municipality(NamedTuple):
    code: str  # kommunkod (SCB)
    name: str  # the official name, "Örebro kommun"


# Örebro län (county code 18), by the short name applications use.
MUNICIPALITIES = {
    "Lekeberg": Municipality("1814", "Lekebergs kommun"),
    "Laxå": Municipality("1860", "Laxå kommun"),
    "Hallsberg": Municipality("1861", "Hallsbergs kommun"),
    "Degerfors": Municipality("1862", "Degerfors kommun"),
    "Hällefors": Municipality("1863", "Hällefors kommun"),
    "Ljusnarsberg": Municipality("1864", "Ljusnarsbergs kommun"),
    "Örebro": Municipality("1880", "Örebro kommun"),
    "Kumla": Municipality("1881", "Kumla kommun"),
    "Askersund": Municipality("1882", "Askersunds kommun"),
    "Karlskoga": Municipality("1883", "Karlskoga kommun"),
    "Nora": Municipality("1884", "Nora kommun"),
    "Lindesberg": Municipality("1885", "Lindesbergs kommun"),
}


def municipality(short_name: str) -> Municipality | None:
    """The municipality an application names (`Örebro`), or None if the table lacks it."""
    return MUNICIPALITIES.get(short_name.strip())
