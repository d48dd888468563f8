"""Swedish identifiers: organisation numbers, bankgiro and plusgiro numbers.

All three carry a Luhn (mod 10) check digit, so one helper serves them all; the
structure rules come from Bolagsverket's and Bankgirot's published formats.
"""

import re
from typing import ClassVar

from models.errors import Refused

ORGANISATION_NUMBER = re.compile(r"([0-9]{6})-?([0-9]{4})")  # ASCII digits only


class IdentifierError(Refused, ValueError):
    """The value is not a well-formed identifier; the refusal says why."""

    messages: ClassVar[dict[str, str]] = {
        "identifier.organisation_number_shape": "must be 10 digits written NNNNNN-NNNN",
        "identifier.personal_number": "digits 3–4 must be 20 or more (otherwise it is a "
        "personal number)",
        "identifier.check_digit": "the check digit (the last digit) does not match",
        "identifier.bankgiro_shape": "must be 7 or 8 digits, written NNN-NNNN or NNNN-NNNN",
        "identifier.plusgiro_shape": "must be 2 to 8 digits, written NNNNNN-N",
    }


def luhn_valid(digits: str) -> bool:
    """True when the last digit is the Luhn check digit of the ones before it."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def organisation_number(value: str) -> str:
    """Return the number as NNNNNN-NNNN, or raise IdentifierError naming the fault."""
    match = ORGANISATION_NUMBER.fullmatch(str(value).strip())
    if not match:
        raise IdentifierError("identifier.organisation_number_shape")
    digits = match.group(1) + match.group(2)
    if int(digits[2:4]) < 20:
        raise IdentifierError("identifier.personal_number")
    if not luhn_valid(digits):
        raise IdentifierError("identifier.check_digit")
    return f"{digits[:6]}-{digits[6:]}"


def bankgiro(value: str) -> str:
    """Return a bankgiro number as NNN-NNNN or NNNN-NNNN, or raise IdentifierError."""
    digits = _giro_digits(value, range(7, 9))
    if digits is None:
        raise IdentifierError("identifier.bankgiro_shape")
    return f"{digits[:-4]}-{digits[-4:]}"


def plusgiro(value: str) -> str:
    """Return a plusgiro number as N…N-N (2–8 digits), or raise IdentifierError."""
    digits = _giro_digits(value, range(2, 9))
    if digits is None:
        raise IdentifierError("identifier.plusgiro_shape")
    return f"{digits[:-1]}-{digits[-1]}"


def _giro_digits(value: str, lengths: range) -> str | None:
    """The digits of a giro number, None if they are not as many as `lengths` allows."""
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"[0-9]+", digits) or len(digits) not in lengths:
        return None
    if not luhn_valid(digits):
        raise IdentifierError("identifier.check_digit")
    return digits


def luhn_check_digit(digits: str) -> str:
    """The digit that, put after `digits`, makes them Luhn-valid (`luhn_valid`)."""
    return next(d for d in "0123456789" if luhn_valid(digits + d))


def ocr_reference(case_reference: str, number: int) -> str:
    """A repayment claim's payment reference (OCR), read back by a person as its parts: the
    case reference's digits (its year and serial: 26RS12 gives 2612), the claim's serial on
    the case (two digits or more), Bankgirot's length digit (the reference's length with
    both last digits, modulo 10) and the Luhn check digit. With the length digit a bank's
    strict OCR check (hård kontroll) also catches a digit left out or added; 26RS12's first
    claim is 2612 01 8 8, written 26120188."""
    body = re.sub(r"[^0-9]", "", case_reference) + f"{number:02d}"
    body += str((len(body) + 2) % 10)
    return body + luhn_check_digit(body)


def ocr_valid(value: str) -> bool:
    """Whether `value` is an OCR reference as `ocr_reference` makes them: 2 to 25 digits,
    its length digit right and its check digit the Luhn digit."""
    digits = str(value).strip()
    return (
        re.fullmatch(r"[0-9]{2,25}", digits) is not None
        and int(digits[-2]) == len(digits) % 10
        and luhn_valid(digits)
    )
