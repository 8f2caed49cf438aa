from django.contrib import admin

from doorstep.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `doorstep create-token`; here they can be seen and revoked."""

    list_display = ("user", "label", "created_at", "revoked_at")
    list_select_related = ("user",)
    fields = ("user", "label", "created_at", "revoked_at")
    readonly_fields = ("user", "label", "created_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
