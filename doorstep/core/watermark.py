"""Who made a personal export, written on the export itself (issue 33).

A list of residents that leaves the project (a spreadsheet forwarded to a chat group, a printed
page left on a table) still says who made it and when: every personal XLSX carries the mark in
its document properties (creator, last modified by, title, description, keywords) and in each
sheet's printed header and footer; every print page carries it on each printed page
(``core/_watermark.html``, a fixed-position footer Chromium repeats on every page). The mark
names the user, their role and unit, the time, and the number of the audit entry that recorded
the export, so the export register (``/exports/``) finds it again.

The unit is also what a resident is shown of who read their record (``core.actions.audit``):
the district, the town or the communities the user works for, never a person's name.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from doorstep.core.models import AuditEntry, User
from doorstep.core.roles import Role

# Excel holds at most 255 characters in a header or footer section.
_HEADER_MAX = 250
_UNIT_MAX = 100


def unit_of(user: User | None) -> str:
    """The unit a user acts for, as a resident may be shown it: their district (a district
    commander), their town (a town-wide role), or their town and communities; never a name."""
    if user is None:
        return ""
    if user.is_district_wide:
        return str(user.district) if user.district_id else ""
    town = str(user.town) if user.town_id else ""
    if user.is_town_wide:
        return town
    communities = sorted(user.communities.values_list("name", flat=True))
    return " ".join(p for p in (town, "、".join(communities)) if p)[:_UNIT_MAX]


def role_of(user: User | None) -> str:
    """The role an export or an audit entry keeps: an administrator's is theirs whatever the
    role field says."""
    if user is None:
        return ""
    return str(Role.ADMIN) if user.is_superuser else str(user.role)


def role_label(role: str) -> str:
    """A stored role (``community_worker``) in the reader's language."""
    try:
        return str(Role(role).label)
    except ValueError:
        return role


@dataclass(frozen=True)
class Mark:
    """Who made an export, and when: the same words on the file and on the page."""

    username: str
    role: str  # as stored: ``Role`` value
    unit: str
    at: dt.datetime
    entry_id: int | None = None  # the audit entry of the export, for the register

    @property
    def who(self) -> str:
        parts = [p for p in (role_label(self.role), self.unit) if p]
        return f"{self.username} ({', '.join(parts)})" if parts else self.username

    @property
    def when(self) -> str:
        return timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")

    @property
    def line(self) -> str:
        """One line for a footer: who, when, the register's number, and the duty it carries."""
        text = _("Made by %(who)s at %(when)s") % {"who": self.who, "when": self.when}
        if self.entry_id is not None:
            text += " · " + _("export no. %(n)d") % {"n": self.entry_id}
        return text + " · " + _("Personal data: do not pass on")

    @property
    def public_line(self) -> str:
        """The line of a page handed to residents (a notice, a code sheet): the role, the unit,
        the time and the register's number, which finds who printed it; not the user's name."""
        parts = [p for p in (role_label(self.role), self.unit) if p]
        text = _("Printed by %(who)s at %(when)s") % {"who": ", ".join(parts), "when": self.when}
        if self.entry_id is not None:
            text += " · " + _("print no. %(n)d") % {"n": self.entry_id}
        return text


def for_user(user: User, at: dt.datetime | None = None) -> Mark:
    """The mark of an export by ``user`` now (or at ``at``), not tied to an audit entry."""
    return Mark(user.get_username(), role_of(user), unit_of(user), at or timezone.now())


def for_entry(entry: AuditEntry) -> Mark:
    """The mark of the export an audit entry recorded: its user, role, unit, time and number."""
    return Mark(entry.username, entry.role, entry.unit, entry.at, entry.pk)


def _footer_text(text: str) -> str:
    # In a header or footer "&" starts a code (&P the page number): a literal one is doubled,
    # and a cut never leaves half of a pair.
    cut = text.replace("&", "&&")[:_HEADER_MAX]
    trailing = len(cut) - len(cut.rstrip("&"))
    return cut[:-1] if trailing % 2 else cut


def stamp(book: Workbook, mark: Mark, title: str = "") -> Workbook:
    """Put the mark on a workbook (a write-only one too) before it is saved: its properties and
    every sheet's printed header and footer (with the page number)."""
    props = book.properties
    props.creator = mark.who[:_HEADER_MAX]
    props.lastModifiedBy = mark.who[:_HEADER_MAX]
    props.title = (title or _("Personal data"))[:_HEADER_MAX]
    props.description = mark.line
    props.keywords = " ".join(
        p
        for p in (
            "doorstep-export",
            f"user={mark.username}",
            f"role={mark.role}",
            f"at={mark.at.isoformat(timespec='seconds')}",
            f"export={mark.entry_id}" if mark.entry_id is not None else "",
        )
        if p
    )
    props.created = props.modified = timezone.localtime(mark.at).replace(tzinfo=None)
    line = _footer_text(mark.line)
    for sheet in book.worksheets:
        sheet.oddHeader.center.text = line
        sheet.oddFooter.center.text = line
        sheet.oddFooter.right.text = "&P / &N"
        sheet.evenHeader.center.text = line
        sheet.evenFooter.center.text = line
        sheet.firstHeader.center.text = line
        sheet.firstFooter.center.text = line
    return book


def save(book: Workbook, mark: Mark, title: str = "") -> bytes:
    """The workbook, marked, as the bytes of an XLSX file."""
    out = io.BytesIO()
    stamp(book, mark, title).save(out)
    return out.getvalue()
