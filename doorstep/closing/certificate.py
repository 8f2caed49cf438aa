"""The erase certificate: signed, printable, verifiable without trusting the database.

The body is canonical JSON (sorted keys, no spaces, UTF-8) signed with an Ed25519 key that the
server keeps under ``DOORSTEP_HOME/keys`` (made on first use, readable by its owner only). The
public key is printed on the certificate, so anyone holding the printout or the PDF can check
that the content was not changed after the erase (``doorstep erase --verify NUMBER``).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from fpdf import FPDF

# Fonts for the PDF: the first that exists. fonts-noto-cjk (Debian) gives the first.
FONTS = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2: SC
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
]


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _key_path() -> Path:
    return Path(settings.HOME) / "keys" / "erase-certificates.ed25519"


def signing_key() -> Ed25519PrivateKey:
    """The server's signing key, made once."""
    path = _key_path()
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written once, owner-only, without a moment where another user could read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def sign(body: dict[str, Any]) -> tuple[str, str]:
    """(signature in base64, public key in hex)."""
    key = signing_key()
    return base64.b64encode(key.sign(canonical(body))).decode(), public_hex(key)


def verify(body: dict[str, Any], signature: str, public_key: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            base64.b64decode(signature), canonical(body)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def pdf(lines: list[tuple[str, str]], title: str, footer: str) -> bytes:
    """The certificate as an A4 PDF: ``lines`` are (label, value) pairs; a label of "#" is a
    heading. The footer (number, signature) is on every page."""
    document = _Document(footer)
    font = next(((p, i) for p, i in FONTS if Path(p).exists()), None)
    if font is not None:
        document.add_font("body", "", font[0], collection_font_number=font[1])
        family = "body"
    else:
        family = "helvetica"
    document.footer_family = family
    document.set_auto_page_break(auto=True, margin=22)
    document.add_page()
    document.set_font(family, size=16)
    document.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    document.ln(2)
    for label, value in lines:
        if label == "#":
            document.ln(2)
            document.set_font(family, size=12)
            document.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
            continue
        document.set_font(family, size=9)
        document.multi_cell(
            0, 5, f"{label}: {value}" if label else value, new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(document.output())


class _Document(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer
        self.footer_family = "helvetica"

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font(self.footer_family, size=7)
        self.multi_cell(0, 3.5, f"{self.footer_text}  ·  {self.page_no()}/{{nb}}", align="C")
