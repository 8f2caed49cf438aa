from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from doorstep.core.http import AuthedRequest, own_path, require
from doorstep.core.models import AuditEntry
from doorstep.core.roles import Can


@require_GET
@login_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    require(request.user, Can.READ_AUDIT)
    entries = AuditEntry.objects.all()
    action = request.GET.get("action", "")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    rows = _audit_rows(page)
    return render(request, "core/audit.html", {"page": page, "rows": rows, "action": action})


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    kind: str  # what the object is, in the reader's language ("检测轮次")
    name: str  # which one ("第3轮全员核酸"), or its number where it is gone


@dataclass(frozen=True)
class _Kind:
    model: str  # the app label and model the entry's object_id is a key of ("" when it is a name)
    label: Promise | None = None  # None: the model's own verbose name
    related: tuple[str, ...] = ()  # what the model's ``__str__`` reads, fetched with it


# Every ``object_type`` the actions write (``core.actions.audit``). The log names objects of every
# app, as Django's admin log does, through the app registry: by label, so core imports none of
# the apps above it. A resident reads masked, as on every list.
_KINDS = {
    "campaign": _Kind("campaigns.Campaign"),
    "district_round": _Kind("campaigns.DistrictRound"),
    "daily_report": _Kind("campaigns.Campaign", _("Daily report")),
    "district_report": _Kind("territory.District", _("District daily report")),
    "untested": _Kind("territory.Community", _("Untested list")),
    "community": _Kind("territory.Community"),
    "roster": _Kind("", _("Roster")),
    "building": _Kind("territory.Building", related=("community",)),
    "household": _Kind("territory.Household", related=("unit__building__community",)),
    "resident": _Kind("territory.Resident"),
    "user": _Kind("core.User"),
    "drill_lane": _Kind("sampling.Lane", _("Drill lane"), related=("site",)),
}


def _audit_rows(entries: Iterable[AuditEntry]) -> list[AuditRow]:
    """Each entry with its object as a reader says it: the kind in words and the object's name,
    one query per kind on the page."""
    entries = list(entries)
    keys: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.object_type in _KINDS and _KINDS[e.object_type].model and e.object_id.isdigit():
            keys[_KINDS[e.object_type].model].add(e.object_id)
    names: dict[tuple[str, str], str] = {}
    related = {k.model: k.related for k in _KINDS.values() if k.related}
    for label, ids in keys.items():
        model = apps.get_model(label)
        found = model._base_manager.select_related(*related.get(label, ())).in_bulk(map(int, ids))
        names.update(((label, str(pk)), str(obj)) for pk, obj in found.items())
    return [_audit_row(e, names) for e in entries]


def _audit_row(entry: AuditEntry, names: dict[tuple[str, str], str]) -> AuditRow:
    kind = _KINDS.get(entry.object_type)
    if kind is None:
        return AuditRow(entry, entry.object_type, entry.object_id)
    if not kind.model:
        return AuditRow(entry, str(kind.label), entry.object_id)
    label = str(kind.label or apps.get_model(kind.model)._meta.verbose_name)
    name = names.get((kind.model, entry.object_id)) or (
        f"#{entry.object_id}" if entry.object_id else ""
    )
    return AuditRow(entry, capfirst(label), name)


# Django's sign-in, sign-out and language views, with ``next`` checked by ``own_path`` (a page
# of this site, or nothing) like every other redirect target that comes from input.
class SignIn(auth_views.LoginView):
    def get_redirect_url(self) -> str:
        raw = self.request.POST.get("next", self.request.GET.get("next"))
        return own_path(self.request, raw) or ""


class SignOut(auth_views.LogoutView):
    def get_redirect_url(self) -> str:
        raw = self.request.POST.get("next", self.request.GET.get("next"))
        return own_path(self.request, raw) or ""


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    post = request.POST.copy()
    post["next"] = own_path(request, post.get("next")) or reverse("home")
    request.POST = post  # type: ignore[assignment]
    return i18n.set_language(request)
