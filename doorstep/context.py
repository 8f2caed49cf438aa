from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.core.roles import Can
from doorstep.territory.models import Town
from doorstep.territory.scoping import town_ids


def nav_items(user) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    items = [{"url": reverse("home"), "label": _("Home")}]
    if user.can(Can.VIEW_DISTRICT):
        items.append({"url": reverse("district:board"), "label": _("District")})
        items.append({"url": reverse("campaigns:district_rounds"), "label": _("District rounds")})
    if user.can(Can.VIEW_DASHBOARD):
        items.append({"url": reverse("command:index"), "label": _("Command")})
    if user.can(Can.VIEW_RESIDENTS):
        items.append({"url": reverse("territory:communities"), "label": _("Communities")})
        items.append({"url": reverse("territory:residents"), "label": _("Residents")})
    if user.can(Can.IMPORT_ROSTER):
        items.append({"url": reverse("territory:roster_upload"), "label": _("Import roster")})
    if user.can(Can.VIEW_CAMPAIGNS):
        items.append({"url": reverse("campaigns:list"), "label": _("Campaigns")})
    if user.can(Can.VIEW_CANVASS):
        items.append({"url": reverse("canvass:index"), "label": _("Door to door")})
    if user.can(Can.VIEW_SITES):
        items.append({"url": reverse("sampling:sites"), "label": _("Sampling")})
        items.append({"url": reverse("sampling:home"), "label": _("Home sampling")})
    if user.can(Can.RECEIVE_SPECIMENS):
        items.append({"url": reverse("lab:index"), "label": _("Lab")})
    if user.can(Can.VIEW_RETESTS):
        items.append({"url": reverse("lab:retests"), "label": _("Retests")})
    if user.can(Can.TELL_AT_DOOR):
        items.append({"url": reverse("notices:doors"), "label": _("Tell at the door")})
    if user.can(Can.VIEW_MESSAGES):
        items.append({"url": reverse("notices:outbox"), "label": _("Text messages")})
    if user.can(Can.VIEW_NEEDS):
        items.append({"url": reverse("assistance:index"), "label": _("Special needs")})
    if user.can(Can.VIEW_WORKFORCE):
        items.append({"url": reverse("workforce:index"), "label": _("Workforce")})
        items.append({"url": reverse("workforce:where"), "label": _("Who is where")})
    if user.can(Can.READ_AUDIT) or user.can(Can.VIEW_DASHBOARD):
        items.append({"url": reverse("command:exports"), "label": _("Export register")})
    if user.can(Can.READ_AUDIT):
        items.append({"url": reverse("core:audit"), "label": _("Audit log")})
    if user.can(Can.CLOSE_RESPONSE):
        items.append({"url": reverse("closing:index"), "label": _("Closing the books")})
    return items


def _demo_only(user) -> bool:  # type: ignore[no-untyped-def]
    """Whether every town this user works in is a demo town: only then does the banner say
    that everyone on the page is synthetic."""
    towns = town_ids(user)
    found = Town.objects.all() if towns is None else Town.objects.filter(pk__in=towns)
    return found.exists() and not found.filter(is_demo=False).exists()


def doorstep(request: HttpRequest) -> dict[str, object]:
    """Navigation for the user's role; every page says when it shows synthetic demo people."""
    user = getattr(request, "user", None)
    lock_minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if user is None or not user.is_authenticated:
        return {"demo_data": False, "nav_items": [], "lock_minutes": lock_minutes}
    return {
        "demo_data": _demo_only(user),
        "nav_items": nav_items(user),
        "lock_minutes": lock_minutes,
    }
