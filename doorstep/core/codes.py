"""Short opaque codes with a check character.

Person codes are random (never derived from an ID number), drawn from Crockford's base-32
alphabet, which leaves out I, L, O and U so that a code read aloud or typed from paper is hard to
get wrong. The last character is a Luhn mod 32 check character: any single wrong character, and
any swap of two neighbouring characters (but 0 with Z, Luhn mod N's one blind spot), is detected.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Characters people type for the ones the alphabet leaves out, and separators they add.
ALIASES = {"O": "0", "I": "1", "L": "1"}
SEPARATORS = " -_."

PERSON_CODE_BODY = 8
# A worker code is one character shorter, so a scanner tells the two apart by length.
WORKER_CODE_BODY = 7


def check_character(body: str) -> str:
    """Luhn mod N check character over ALPHABET for an already-normalised body."""
    n = len(ALPHABET)
    total = 0
    double = True
    for ch in reversed(body):
        value = _VALUE[ch] * (2 if double else 1)
        total += value // n + value % n
        double = not double
    return ALPHABET[(n - total % n) % n]


def normalise(raw: str) -> str:
    """Upper-case, drop separators and map look-alike letters; may still be invalid."""
    cleaned = "".join(ch for ch in raw.strip().upper() if ch not in SEPARATORS)
    return "".join(ALIASES.get(ch, ch) for ch in cleaned)


def is_valid(code: str, body_length: int = PERSON_CODE_BODY) -> bool:
    if len(code) != body_length + 1 or any(ch not in _VALUE for ch in code):
        return False
    return check_character(code[:-1]) == code[-1]


def new_code(body_length: int = PERSON_CODE_BODY) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(body_length))
    return body + check_character(body)


def new_unique_code(body_length: int, taken: Callable[[str], bool]) -> str:
    """A fresh code that ``taken`` says nobody holds (a unique constraint still guards the insert)."""
    while True:
        code = new_code(body_length)
        if not taken(code):
            return code


def parse_person_code(raw: str) -> str | None:
    """The canonical person code for what was scanned or typed, or None if it is not one."""
    code = normalise(raw)
    return code if is_valid(code) else None


def display(code: str) -> str:
    """Groups of three for reading aloud and printing: ``K7Q-M9X-D4P``."""
    return "-".join(code[i : i + 3] for i in range(0, len(code), 3))


def qr_svg(code: str) -> str:
    """The code as an inline SVG QR symbol, sized by CSS (no width/height of its own)."""
    import segno

    return str(segno.make(code, error="m").svg_inline(scale=4, border=2, omitsize=True))
