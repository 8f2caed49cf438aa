"""pretix's side of `bench/pretix.py`: run by pretix's own interpreter (its venv), never imported
by Doorstep. Builds, in the database the config file names, one organizer with one event, one
admission product, one check-in list over it, ``N`` paid orders of one ticket each and a team API
token allowed to check in, then prints one JSON line: the token, the organizer's slug, the
list's id and pretix's version. The tickets' secrets go to a file, one a line.

    PRETIX_CONFIG_FILE=.../pretix.cfg pretix-venv/bin/python bench/pretix_setup.py N SECRETS

The orders are bulk-inserted rather than placed through the shop: what is measured is the
scan at the door, and 20,000 checkouts through pretix's order flow would take minutes. The rows
carry what `Order.save` and `OrderPosition.save` would have filled in (organizer, expiry, a
unique pseudonymization id, a ticket secret), so the check-in code sees ordinary paid tickets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pretix.settings")

import django

django.setup()

from django.utils.timezone import now  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402
from pretix import __version__  # noqa: E402
from pretix.base.models import Event, Order, OrderPosition, Organizer  # noqa: E402

BATCH = 2_000


def event() -> Event:
    organizer = Organizer.objects.create(name="Bench", slug="bench")
    start = now() + dt.timedelta(days=1)
    return Event.objects.create(
        organizer=organizer, name="Door", slug="door", date_from=start, currency="EUR", live=True
    )


def orders(event: Event, item_id: int, count: int) -> list[str]:
    """``count`` paid orders of one ticket each; returns the tickets' secrets."""
    channel = event.organizer.sales_channels.get(identifier="web")
    moment, expires = now(), now() + dt.timedelta(days=30)
    found: list[str] = []
    for start in range(0, count, BATCH):
        numbers = range(start, min(count, start + BATCH))
        made = Order.objects.bulk_create(
            Order(
                code=f"B{n:06d}",
                status=Order.STATUS_PAID,
                organizer=event.organizer,
                event=event,
                email=f"guest{n}@example.org",
                locale="en",
                datetime=moment,
                expires=expires,
                total=Decimal("0.00"),
                sales_channel=channel,
            )
            for n in numbers
        )
        tickets = [
            OrderPosition(
                order=order,
                organizer=event.organizer,
                positionid=1,
                item_id=item_id,
                price=Decimal("0.00"),
                tax_rate=Decimal("0.00"),
                tax_value=Decimal("0.00"),
                attendee_name_parts={},
                attendee_name_cached="",
                secret=secrets.token_hex(16),
                pseudonymization_id=f"P{n:09d}",
            )
            for n, order in zip(numbers, made, strict=True)
        ]
        OrderPosition.all.bulk_create(tickets)
        found += [ticket.secret for ticket in tickets]
    return found


def main() -> None:
    count, secrets_path = int(sys.argv[1]), sys.argv[2]
    with scopes_disabled():
        door = event()
        item = door.items.create(name="Ticket", default_price=Decimal("0.00"), admission=True)
        checkins = door.checkin_lists.create(name="Door", all_products=True)
        team = door.organizer.teams.create(
            name="Scanners",
            all_events=True,
            limit_event_permissions={"event.orders:read": True, "event.orders:checkin": True},
        )
        token = team.tokens.create(name="bench")
        found = orders(door, item.pk, count)
    with open(secrets_path, "w") as out:
        out.write("\n".join(found) + "\n")
    print(
        json.dumps(
            {
                "token": token.token,
                "organizer": door.organizer.slug,
                "list": checkins.pk,
                "version": __version__,
            }
        )
    )


if __name__ == "__main__":
    main()
