"""Account pages SERS adds to Django's sign-in views (accounts/urls.py)."""

from django.contrib.auth import views as auth_views

from .forms import QueuedPasswordResetForm


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
