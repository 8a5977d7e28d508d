"""The admin is for administrators managing users and roles (groups); clinical data is changed
only through the pages, which check roles and write the audit trail. Audit entries are read-only."""

from django.contrib import admin

from regimens.web.clinic.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor", "action", "what")
    list_filter = ("action",)
    ordering = ("-seq",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
