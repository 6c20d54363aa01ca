"""Passwords masked out of any text before it is shown, logged or written to a file."""

from __future__ import annotations

import re

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.\-]*:/+[^:/@\s]*:)[^@\s/]+@")
"""``scheme://user:PASSWORD@`` (also after a path mangled it to ``scheme:/user:…``)."""
_KEY_PASSWORD = re.compile(
    r"(?P<keep>\b(?:password|passwd|pgpassword)\s*[=:]\s*)(?:'[^']*'|\"[^\"]*\"|[^\s&;,)]+)",
    re.IGNORECASE,
)
"""``password=…`` in a libpq connection string or a URL's query, ``PGPASSWORD=…``."""


def mask_secrets(text: str) -> str:
    """``text`` with every password we can recognise replaced by ``***``."""
    if "@" in text:
        text = _URL_PASSWORD.sub(rf"\g<keep>{MASK}@", text)
    if "pass" in text.lower():
        text = _KEY_PASSWORD.sub(rf"\g<keep>{MASK}", text)
    return text
