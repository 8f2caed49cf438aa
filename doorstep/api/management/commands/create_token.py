from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from doorstep.api.models import ApiToken
from doorstep.core.models import User


class Command(BaseCommand):
    help = "Issue a bearer token for a user's device: doorstep create-token USERNAME [--label L]"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="e.g. the device, 富锦园 1号通道 scanner")

    def handle(self, *args, username: str, label: str, **options) -> None:  # type: ignore[no-untyped-def]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(
                f"No active user called {username!r}. Create the user first (admin), then the token."
            )
        _, token = ApiToken.issue(user, label)
        self.stdout.write(token)
        self.stderr.write(
            f"Token for {username} ({user.get_role_display()}). It is shown once; store it on the device."
        )
