"""API tokens: a college system's key to the API, created by one of the college's
registrars. Only a hash of the secret is stored (services.api_token_create shows the
secret once)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organisations.models import College

# A token lives at most this long; a registrar picks its expiry when creating it.
API_TOKEN_MAX_DAYS = 365
API_TOKEN_DEFAULT_DAYS = 90


class ApiToken(models.Model):
    """A bearer token of a college's system. Valid from creation until it expires or a
    registrar of the college revokes it, and only while its creator is still a registrar
    of the college (auth.py)."""

    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="api_tokens")
    label = models.CharField(
        _("name"), max_length=100, help_text=_("For example: Banner nightly import.")
    )
    # The token's first characters ("sers_" and a few more), shown so people can tell
    # tokens apart; far too short to guess the rest from.
    prefix = models.CharField(max_length=16)
    # SHA-256 of the whole token, hex. Lookups are by this column (unique index).
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    # Written at most once a minute (services.api_token_touch), not on every call.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(condition=~Q(label=""), name="api_token_label_not_blank"),
            models.CheckConstraint(condition=~Q(prefix=""), name="api_token_prefix_not_blank"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="api_token_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__lte=F("created_at") + timedelta(days=API_TOKEN_MAX_DAYS)),
                name="api_token_lifetime_at_most_a_year",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="api_token_revoked_with_who",
            ),
        ]
        indexes = [models.Index(fields=["college", "created_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.label})"

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    def state(self, now=None) -> "ApiToken.State":
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return self.State.EXPIRED
        return self.State.ACTIVE
