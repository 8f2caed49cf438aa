"""Code 128 (ISO/IEC 15417) drawn as SVG, for the barcodes printed on paper lane sheets: a
keyboard-wedge scanner reads one back as the characters it holds, followed by Enter.

All-digit codes are packed two digits to a symbol (code set C), after one digit in code set B
when their length is odd; anything else is code set B (printable ASCII). The quiet zone of ten
modules on each side is part of the drawing.
"""

from __future__ import annotations

from html import escape

# Bar and space widths, in modules, of the symbol values 0-105 (each 11 modules), and the stop.
PATTERNS = (  # noqa: SIM905 (the standard's table, ten to a row)
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232"
).split()
STOP = "2331112"
CODE_C, START_B, START_C = 99, 104, 105
QUIET = 10


class NotEncodable(ValueError):
    pass


def values(text: str) -> list[int]:
    """The symbol values of ``text``: the start, the data, the check symbol (no stop)."""
    if not text or any(not 32 <= ord(ch) <= 126 for ch in text):
        raise NotEncodable(text)
    if text.isascii() and text.isdigit() and len(text) >= 4:
        head = []
        if len(text) % 2:
            head, text = [START_B, ord(text[0]) - 32, CODE_C], text[1:]
        data = head or [START_C]
        data += [int(text[i : i + 2]) for i in range(0, len(text), 2)]
    else:
        data = [START_B, *(ord(ch) - 32 for ch in text)]
    check = (data[0] + sum(n * v for n, v in enumerate(data[1:], start=1))) % 103
    return [*data, check]


def modules(text: str) -> str:
    """The symbol as module widths, bar first: each symbol's six, then the stop's seven."""
    return "".join(PATTERNS[v] for v in values(text)) + STOP


def svg(text: str, height: int = 40) -> str:
    """An inline SVG of ``text`` as Code 128, one unit per module, sized by CSS."""
    x, bars = QUIET, []
    for n, width in enumerate(int(w) for w in modules(text)):
        if n % 2 == 0:
            bars.append(f"M{x} 0h{width}v{height}h-{width}z")
        x += width
    total = x + QUIET
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {height}" '
        f'preserveAspectRatio="none" role="img" aria-label="{escape(text)}" class="code128" data-code="{escape(text)}">'
        f'<rect width="{total}" height="{height}" fill="#fff"/>'
        f'<path d="{"".join(bars)}" fill="#000"/></svg>'
    )
