"""The look-up secret, checked in one place.

A resident who is not signed in proves who they are with their person code and the last six
characters of their document number (no masked page shows them). Every public form that takes
that pair (``/status/me/``, ``/needs/ask/``, and any later one) checks it through ``check`` and
nowhere else (``territory/tests/test_secret.py`` finds every such form and holds them to it):

- A failed pair counts against the person code and against the address, under the same keys
  whichever form it came through, so that the forms together are no wider an oracle than one.
- A malformed pair (not a person code, a tail of the wrong length) answers, and counts, exactly
  as a wrong one does: until the pair is right, nothing is learned from the answer.
- A right pair costs nothing: a household behind one address may look up every member.
- Once a key is at its limit, a right pair is refused too, in the same words as a wrong one.

Each try is counted before the pair is compared and given back when it was right, so that of
requests sent all at once no more than the limit are compared (``core.limits.take``).

The trade-off (``docs/security.md``): whoever knows a person code can pause that person's
look-up and self-service request by trying wrong tails (ten minutes after five, a day after
twenty); the refusal tells them to call their community, whose workers register a request
without the pair.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core import codes, limits
from doorstep.core.limits import Limit
from doorstep.territory import queries
from doorstep.territory.models import Resident

WINDOW = dt.timedelta(minutes=10)
# Failed pairs for one person code: five in ten minutes, twenty in a day. A neighbour who knows
# the birth date still has 500 to 1,000 tails to try, which twenty a day make weeks.
BY_CODE = Limit("secret_code", 5, WINDOW)
BY_CODE_DAILY = Limit("secret_code_day", 20, dt.timedelta(days=1))
# Failed pairs from one address, whatever the codes: one address cannot try one tail against many
# codes. Looser, for a housing estate behind one mobile operator's address.
BY_ADDRESS = Limit("secret_address", 20, WINDOW)

FOUND = "found"
NO_MATCH = "no_match"
REFUSED = "refused"


@dataclass(frozen=True)
class Pair:
    """What a form may say about a person code and a document tail: the resident (``FOUND``),
    or a refusal in words the person can act on."""

    outcome: str
    resident: Resident | None = None
    wait_minutes: int = 0

    @property
    def found(self) -> bool:
        return self.outcome == FOUND

    @property
    def message(self) -> str:
        if self.outcome == REFUSED:
            return _(
                "Too many wrong tries for this person code, or from this network. Wait "
                "%(minutes)d minutes and try again, or ask your community worker. To ask for "
                "help now, call your community; in an emergency, call 120."
            ) % {"minutes": self.wait_minutes}
        if self.outcome == NO_MATCH:
            return _(
                "No match for that person code and document number. The person code has 9 "
                "letters and digits (on your code sheet and in your health-code app); give the "
                "last 6 characters of your ID card, passport or permit. Check both, or ask your "
                "community worker."
            )
        return ""


def _code_key(raw_code: str) -> str:
    """The key a code's tries count under: the code as parsed, or, for what is not a code, what
    was typed (so that a malformed code is counted and answered as a wrong one)."""
    parsed = codes.parse_person_code(raw_code or "")
    return parsed or "typed:" + "".join((raw_code or "").split()).upper()[:32]


def check(raw_code: str, raw_tail: str, address: str, now: dt.datetime | None = None) -> Pair:
    """The resident with this person code and document tail, if the pair is right and neither
    the code nor the address has tried too many wrong pairs."""
    code_key = _code_key(raw_code)
    taken = limits.take(
        [
            (BY_CODE, code_key),
            (BY_CODE_DAILY, code_key),
            (BY_ADDRESS, address or "unknown"),
        ],
        now or timezone.now(),
    )
    if not taken.allowed:
        return Pair(REFUSED, wait_minutes=taken.wait_minutes)
    tail = queries.document_tail(raw_tail)
    code = codes.parse_person_code(raw_code or "")
    resident = queries.resident_by_code_and_document(code, tail) if len(tail) >= 5 else None
    if resident is None:
        return Pair(NO_MATCH)
    limits.give_back(taken)
    return Pair(FOUND, resident)
