"""Swedish identifiers: organisation numbers, bankgiro and plusgiro numbers, bank accounts.

The first three carry a Luhn (mod 10) check digit, so one helper serves them all; the
structure rules come from Bolagsverket's and Bankgirot's published formats. A bank account
(clearing number and account number) is checked by the rules of Bankgirot's "Bankernas
kontonummeruppbyggnad": the clearing number names the bank, and the bank's type and comment
say how many digits its account numbers have and which check digit they carry.
"""

import re
from dataclasses import dataclass
from itertools import cycle
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
        "identifier.clearing_shape": "must be 4 digits (5 for a Swedbank clearing number "
        "beginning with 8)",
        "identifier.clearing_unknown": "no Swedish bank has the clearing number {clearing}",
        "identifier.clearing_check_digit": "the fifth digit (the check digit of a Swedbank "
        "clearing number) does not match",
        "identifier.account_shape": "an account number at {bank} has {digits} digits",
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


@dataclass(frozen=True)
class Bank:
    """A series of clearing numbers and how its banks' account numbers are built: Bankgirot's
    type 1 (seven digits, mod 11 over clearing and account: comment 1 over the clearing's
    last three digits, comment 2 over all four) or type 2 (comment 1: ten digits, mod 10;
    comment 2: Handelsbanken's nine digits, mod 11; comment 3: up to ten digits, mod 10)."""

    first: int
    last: int
    name: str
    rule: str  # "1.1", "1.2", "2.1", "2.2" or "2.3": the type and comment


# Bankgirot, "Bankernas kontonummeruppbyggnad" (the banks' account numbers), in clearing order.
BANKS = (
    Bank(1100, 1199, "Nordea", "1.1"),
    Bank(1200, 1399, "Danske Bank", "1.1"),
    Bank(1400, 2099, "Nordea", "1.1"),
    Bank(2300, 2399, "Ålandsbanken", "1.2"),
    Bank(2400, 2499, "Danske Bank", "1.1"),
    Bank(3000, 3299, "Nordea", "1.1"),
    Bank(3300, 3300, "Nordea (personkonto)", "2.1"),
    Bank(3301, 3399, "Nordea", "1.1"),
    Bank(3400, 3409, "Länsförsäkringar Bank", "1.1"),
    Bank(3410, 3781, "Nordea", "1.1"),
    Bank(3782, 3782, "Nordea (personkonto)", "2.1"),
    Bank(3783, 3999, "Nordea", "1.1"),
    Bank(4000, 4999, "Nordea", "1.2"),
    Bank(5000, 5999, "SEB", "1.1"),
    Bank(6000, 6999, "Handelsbanken", "2.2"),
    Bank(7000, 7999, "Swedbank", "1.1"),
    Bank(8000, 8999, "Swedbank", "2.3"),
    Bank(9020, 9029, "Länsförsäkringar Bank", "1.2"),
    Bank(9040, 9049, "Citibank", "1.2"),
    Bank(9060, 9069, "Länsförsäkringar Bank", "1.1"),
    Bank(9070, 9079, "Multitude Bank", "1.1"),
    Bank(9100, 9109, "Nordnet Bank", "1.2"),
    Bank(9120, 9124, "SEB", "1.1"),
    Bank(9130, 9149, "SEB", "1.1"),
    Bank(9150, 9169, "Skandiabanken", "1.2"),
    Bank(9170, 9179, "Ikano Bank", "1.1"),
    Bank(9180, 9189, "Danske Bank", "2.1"),
    Bank(9190, 9199, "DNB Bank", "1.2"),
    Bank(9230, 9239, "Marginalen Bank", "1.1"),
    Bank(9250, 9259, "SBAB", "1.1"),
    Bank(9260, 9269, "DNB Bank", "1.2"),
    Bank(9270, 9279, "ICA Banken", "1.1"),
    Bank(9280, 9289, "Resurs Bank", "1.1"),
    Bank(9300, 9349, "Swedbank", "2.1"),
    Bank(9390, 9399, "Landshypotek", "1.2"),
    Bank(9400, 9449, "Forex Bank", "1.1"),
    Bank(9460, 9469, "Santander Consumer Bank", "1.1"),
    Bank(9470, 9479, "BNP Paribas", "1.2"),
    Bank(9500, 9549, "Nordea (Plusgirot)", "2.3"),
    Bank(9550, 9569, "Avanza Bank", "1.2"),
    Bank(9570, 9579, "Sparbanken Syd", "2.1"),
    Bank(9580, 9589, "Aion Bank", "1.1"),
    Bank(9590, 9599, "Erik Penser", "1.2"),
    Bank(9630, 9639, "Lån & Spar Bank Sverige", "1.1"),
    Bank(9640, 9649, "Nordax Bank", "1.2"),
    Bank(9660, 9669, "Svea Bank", "1.2"),
    Bank(9670, 9679, "JAK Medlemsbank", "1.2"),
    Bank(9680, 9689, "Bluestep Finans", "1.1"),
    Bank(9700, 9709, "Ekobanken", "1.2"),
    Bank(9710, 9719, "Lunar Bank", "1.2"),
    Bank(9750, 9759, "Northmill Bank", "1.2"),
    Bank(9780, 9789, "Klarna Bank", "1.2"),
    Bank(9880, 9889, "Riksgälden", "1.2"),
    Bank(9890, 9899, "Riksgälden", "2.1"),
    Bank(9960, 9969, "Nordea (Plusgirot)", "2.3"),
)
ACCOUNT_DIGITS = {"1.1": (7, 7), "1.2": (7, 7), "2.1": (10, 10), "2.2": (9, 9), "2.3": (1, 10)}


@dataclass(frozen=True)
class BankAccount:
    """A Swedish bank account as checked: digits only, and the bank its clearing names."""

    clearing: str  # four digits, or five for a Swedbank 8xxx-x (the fifth a check digit)
    number: str
    bank: str


def bank_for(clearing: str) -> Bank:
    """The bank whose series holds the clearing number (its first four digits)."""
    value = int(clearing[:4])
    for bank in BANKS:
        if bank.first <= value <= bank.last:
            return bank
    raise IdentifierError("identifier.clearing_unknown", clearing=clearing)


def clearing_number(value: str) -> str:
    """The clearing number's digits, its bank known and (Swedbank's fifth) check digit
    right; else IdentifierError."""
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"[0-9]{4,5}", digits) or (len(digits) == 5 and digits[0] != "8"):
        raise IdentifierError("identifier.clearing_shape")
    bank_for(digits)
    if len(digits) == 5 and not luhn_valid(digits):
        raise IdentifierError("identifier.clearing_check_digit")
    return digits


def bank_account_number(clearing: str, value: str) -> BankAccount:
    """The account number at the bank of a checked `clearing`, as many digits as the bank's
    accounts have and its check digit right; else IdentifierError."""
    bank = bank_for(clearing)
    digits = re.sub(r"[\s.,-]", "", str(value))
    fewest, most = ACCOUNT_DIGITS[bank.rule]
    if not re.fullmatch(r"[0-9]+", digits) or not fewest <= len(digits) <= most:
        shape = str(most) if fewest == most else f"{fewest}–{most}"
        raise IdentifierError("identifier.account_shape", bank=bank.name, digits=shape)
    if not _checked(bank.rule, clearing[:4], digits):
        raise IdentifierError("identifier.check_digit")
    return BankAccount(clearing, digits, bank.name)


def _checked(rule: str, clearing: str, digits: str) -> bool:
    """Whether the account's check digit is right by its bank's rule."""
    if rule == "1.1":
        return mod11_valid(clearing[1:] + digits)
    if rule == "1.2":
        return mod11_valid(clearing + digits)
    if rule == "2.2":
        return mod11_valid(digits)
    return luhn_valid(digits)


def mod11_valid(digits: str) -> bool:
    """True when the digits, weighted 1, 2, … 10, 1, … from the right, sum to a multiple
    of 11 (Bankgirot's 11-modul; the last digit is the check digit)."""
    weights = cycle(range(1, 11))
    total = sum(int(char) * next(weights) for char in reversed(digits))
    return total % 11 == 0


def bgc16(clearing: str, number: str) -> str:
    """A checked bank account in Bankgirot's 16-digit form, as payment files name it: the
    four-digit clearing number (Swedbank's fifth digit, a check digit of the clearing
    number alone, left out) and the account number zero-filled to twelve digits."""
    return clearing[:4] + number.zfill(12)


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
