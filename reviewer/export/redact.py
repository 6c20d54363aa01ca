"""Masking personal data in exported text: e-mail addresses, phone numbers, card numbers.

It errs on the side of masking: a run of digits laid out like a phone number is masked even
when it was something else. Card numbers are masked only when they pass the Luhn check, so
order numbers and ids of 13–19 digits stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL_MASK = "[EMAIL]"
PHONE_MASK = "[PHONE]"
CARD_MASK = "[CARD]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])"
)
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE = re.compile(
    r"""(?<![\w+.-])(?:
        (?:\+|00)\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{1,4}){1,5}
      | \(\d{2,5}\)[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){1,3}
      | \d{2,5}[ -]\d{2,4}[ -]\d{2,4}(?:[ -]\d{2,4})?
      | \d{3}\.\d{3}\.\d{4}
      | \d{10,15}
    )(?![\w-]|\.\d)""",
    re.VERBOSE,
)
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{2}[-.]\d{2}[-.]\d{4}$")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum that payment card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(m: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", m.group(0))
    return CARD_MASK if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)


def _phone(m: re.Match[str]) -> str:
    text = m.group(0)
    digits = sum(ch.isdigit() for ch in text)
    marked = text.startswith(("+", "00", "(")) or "(" in text
    if not (7 if marked else 10) <= digits <= 15 or _DATE_LIKE.match(text):
        return text  # without a country code or area code in brackets, 10 digits at least
    return PHONE_MASK


def redact_text(text: str) -> str:
    """``text`` with e-mail addresses, card numbers and phone numbers masked."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MASK, text)
    if sum(ch.isdigit() for ch in text) < 7:
        return text  # too few digits for a phone or card number: the common, fast case
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


def redact_value(value: Any) -> Any:
    """Every string inside ``value`` (nested lists and dicts included) redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value
