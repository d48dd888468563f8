"""One ancestor for every refusal the domain gives a person, so each edge can show them
why and change nothing, without knowing every kind of refusal.

The domain speaks in codes: a refusal is a stable code (`checklist.unanswered`) and its
parameters, plain values (a case reference, a state, the criteria missing, an amount). Each
edge words it for its reader: the command line in English with its own commands and
options, the office in Swedish or English with the human names of states and criteria.
`str()` of a refusal is a neutral English sentence for logs and tests; it names no edge.

Each kind of refusal lists its codes and their neutral sentences in `messages`; every code
is registered in `MESSAGES` when its class is defined, so the edges can be checked to word
every one.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from string import Formatter
from typing import Any, ClassVar

MESSAGES: dict[str, str] = {}


def plain(value: Any) -> str:
    """A parameter as the neutral sentence shows it: a list as "a, b", a code as itself."""
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


class _Plainly(Formatter):
    """Fills a template with plain values; `{roles:or}` joins a list with "or", not commas,
    and `{states:'or'}` quotes each one too."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "or":
            return " or ".join(plain(item) for item in value)
        if format_spec == "'or'":
            return " or ".join(f"'{plain(item)}'" for item in value)
        return format(plain(value), format_spec)


def sentence(template: str, params: Mapping[str, Any]) -> str:
    """`template` ("{case_reference} is '{state}'") filled in with the parameters, plainly."""
    return _Plainly().format(template, **params)


class Refused(Exception):
    """A step refused: bad input, a wrong role, an illegal state. `code` says which refusal,
    `params` its particulars; nothing was changed."""

    messages: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for code, template in cls.__dict__.get("messages", {}).items():
            if code in MESSAGES:
                raise TypeError(f"refusal code {code} is defined twice")
            MESSAGES[code] = template

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise TypeError(f"unknown refusal code {code!r}: list it in a `messages`")
        super().__init__(sentence(MESSAGES[code], params))
        self.code, self.params = code, params

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by code and parameters (a flow's result may carry one to another process);
        the default would call the class with the sentence alone."""
        return _again, (type(self), self.code, self.params)


def _again(kind: type[Refused], code: str, params: dict[str, Any]) -> Refused:
    return kind(code, **params)
