from django.contrib import admin

from doorstep.assistance.models import ContactAttempt, Request
from doorstep.core.admin import ReadOnlyAdmin


@admin.register(Request)
class RequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "community", "status", "needed_by", "registered_at")
    list_filter = ("status", "kind")


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin):
    list_display = ("request", "outcome", "at", "by")
