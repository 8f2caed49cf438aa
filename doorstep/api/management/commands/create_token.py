from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from doorstep.api.actions import issue_token
from doorstep.core import codes
from doorstep.core.models import User
from doorstep.sampling.models import Lane


class Command(BaseCommand):
    help = "Issue a bearer token for a user's device: doorstep create-token USERNAME [--label L]"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="e.g. the device, 富锦园 1号通道 scanner")
        parser.add_argument(
            "--lane",
            default="",
            help="the lane code of the lane this device stays at: its registrar may scan there "
            "even when not on duty there",
        )

    def handle(self, *args, username: str, label: str, lane: str, **options) -> None:  # type: ignore[no-untyped-def]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(
                f"No active user called {username!r}. Create the user first (admin), then the token."
            )
        found = None
        if lane:
            found = Lane.objects.filter(code=codes.normalise(lane)).first()
            if found is None:
                raise CommandError(
                    f"No lane has the code {lane!r}: see the site's printed lane codes."
                )
        _, token = issue_token(user, label, found)
        self.stdout.write(token)
        self.stderr.write(
            f"Token for {username} ({user.get_role_display()}). It is shown once; store it on the device."
        )
