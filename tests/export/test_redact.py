"""Masking e-mail addresses, phone numbers and card numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.export.redact import luhn_ok, redact_text, redact_value


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to jane.doe+billing@mail.example.co.uk today", "write to [EMAIL] today"),
        ("call +1 (555) 123-4567 now", "call [PHONE] now"),
        ("or 555-123-4567, or 020 7946 0958", "or [PHONE], or [PHONE]"),
        ("+44 20 7946 0958", "[PHONE]"),
        ("card 4111 1111 1111 1111 expires", "card [CARD] expires"),
        ("4111-1111-1111-1111", "[CARD]"),
        ("5500005555555559", "[CARD]"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert redact_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order 42 shipped on 2026-10-01 at 09:00:00",
        "invoice 4111 1111 1111 1112 (fails the Luhn check)",
        "ticket 12345678, version 1.2.3, host 192.168.100.200",
        "we have 100 200 300 items at 3.14159265 EUR",
        "tel 555 1234",
    ],
)
def test_ids_dates_and_numbers_stay(text: str) -> None:
    assert redact_text(text) == text


def _with_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("a check digit always exists")


@settings(deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=15, max_size=15),
    st.sampled_from(["", " ", "-"]),
)
def test_every_luhn_valid_card_number_is_masked(body: str, sep: str) -> None:
    number = _with_check_digit(body)
    grouped = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    assert redact_text(f"paid with {grouped}.") == "paid with [CARD]."


@settings(deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"], blacklist_characters="@")))
def test_text_without_digits_or_at_signs_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_nested_values_are_redacted_everywhere() -> None:
    value = {"to": ["ann@example.org"], "n": 3, "note": {"phone": "+33 1 23 45 67 89"}}
    assert redact_value(value) == {"to": ["[EMAIL]"], "n": 3, "note": {"phone": "[PHONE]"}}
