"""Human-readable ticket codes: A-001 … A-999, B-001 …, restarting every business day."""

from __future__ import annotations

import re
import string

PER_LETTER = 999
_CODE = re.compile(r"^([A-Z]{1,3})-?([0-9]{3})$")


def ticket_code(n: int) -> str:
    """The code of the n-th transaction of a day (n from 1)."""
    if n < 1:
        raise ValueError(f"ticket number must be 1 or more, got {n}")
    block, number = divmod(n - 1, PER_LETTER)
    return f"{_letters(block)}-{number + 1:03d}"


def normalize_code(text: str) -> str | None:
    """'a42', ' A-042 ' and 'a-042' all mean A-042; None when it is not a code at all."""
    compact = text.strip().upper().replace(" ", "")
    m = _CODE.match(compact)
    if m is None:
        # A scanner or a person may drop leading zeros: "A-42".
        m2 = re.match(r"^([A-Z]{1,3})-?([0-9]{1,3})$", compact)
        if m2 is None or int(m2.group(2)) == 0:
            return None
        return f"{m2.group(1)}-{int(m2.group(2)):03d}"
    if int(m.group(2)) == 0:
        return None
    return f"{m.group(1)}-{m.group(2)}"


def _letters(block: int) -> str:
    """0 → A, 25 → Z, 26 → AA: spreadsheet-column letters, so a busy day never runs out."""
    letters = ""
    block += 1
    while block:
        block, rem = divmod(block - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters
