from django import forms
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from . import tasks
from .models import HighSchool


class QueuedPasswordResetForm(PasswordResetForm):
    """Sends the reset email from a background task instead of inside the request.

    The task builds its own token, so no reset link travels through the broker. The
    page answers the same whether or not the address has an account.
    """

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        user = context["user"]
        tasks.send_password_reset_email.delay_on_commit(user.pk)


class TeacherInvitationForm(forms.Form):
    """Invite a teacher by email; `high_schools` limits where they may be placed."""

    email = forms.EmailField(label=_("Email address"), help_text=_("The teacher's work email."))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    high_school = forms.ModelChoiceField(label=_("School"), queryset=HighSchool.objects.none())

    def __init__(self, *args, high_schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if high_schools is not None:
            self.fields["high_school"].queryset = high_schools


class TeacherActivationForm(SetPasswordForm):
    """Choose a password to activate an invited teacher account (validators included)."""


class PublicTeacherNamesForm(forms.Form):
    show_teacher_names_publicly = forms.BooleanField(
        label=_("Show teacher names on the public search and school catalogs"),
        required=False,
    )
