"""Django admin for API tokens: read only. A college's registrar creates and revokes its
tokens (api.services); the admin shows support who holds which token and when it was
last used. The key itself is never stored, only its hash, which is not shown."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "label", "college", "created_at", "expires_at", "last_used_at")
    list_filter = ("college",)
    list_select_related = ("college",)
    search_fields = ("prefix", "label", "college__name")
    fields = (
        ("college", "label", "prefix"),
        ("created_by", "created_at", "expires_at"),
        "last_used_at",
        ("revoked_by", "revoked_at"),
    )
    readonly_fields = (
        "college",
        "label",
        "prefix",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_by",
        "revoked_at",
    )
