from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from doorstep.core.models import AuditEntry, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that change only through actions, which keep counters and history with them."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "get_full_name", "role", "town", "is_active")
    list_filter = ("role", "is_active", "town")
    filter_horizontal = ("communities", "groups", "user_permissions")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Doorstep", {"fields": ("role", "phone", "town", "communities")}),
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is never edited or deleted."""

    list_display = ("at", "username", "action", "object_type", "object_id", "reason")
    list_filter = ("action",)
    search_fields = ("username", "object_id", "reason")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
