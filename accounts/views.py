"""Account pages SERS adds to Django's sign-in views (accounts/urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from .forms import QueuedPasswordResetForm


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")
