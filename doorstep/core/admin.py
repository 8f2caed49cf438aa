from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from doorstep.core.actions import audit
from doorstep.core.models import AuditAction, AuditEntry, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that change only through actions, which keep counters and history with them.
    They are never deleted here either: an operational record is voided by its action, with
    who and why, never erased."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


def _access(user: User) -> dict[str, object]:
    """What decides whose data a user sees and what they may do."""
    return {
        "role": user.role,
        "district": user.district_id,
        "town": user.town_id,
        "communities": sorted(user.communities.values_list("pk", flat=True)) if user.pk else [],
        "grids": sorted(user.grids.values_list("pk", flat=True)) if user.pk else [],
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """A change of a user's role, town, communities, grids or admin rights is written to the audit
    log with what it was and what it became."""

    list_display = ("username", "get_full_name", "role", "district", "town", "is_active")
    list_filter = ("role", "is_active", "district", "town")
    filter_horizontal = ("communities", "grids", "groups", "user_permissions")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Doorstep", {"fields": ("role", "phone", "district", "town", "communities", "grids")}),
    )

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        before = _access(User.objects.get(pk=obj.pk)) if change else {}
        request._doorstep_access_before = before  # read in save_related, after the m2m save
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(request, "_doorstep_access_before", {})
        after = _access(user)
        changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if changed:
            audit(request.user, AuditAction.ROLE, "user", user.pk, detail=changed)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is never edited or deleted."""

    list_display = ("at", "username", "action", "object_type", "object_id", "reason")
    list_filter = ("action",)
    search_fields = ("username", "object_id", "reason")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
