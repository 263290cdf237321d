from django.contrib.auth.forms import PasswordResetForm

from . import tasks


class QueuedPasswordResetForm(PasswordResetForm):
    """Sends the reset email from a background task instead of inside the request.

    The task builds its own token, so no reset link travels through the broker. The
    page answers the same whether or not the address has an account.
    """

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        user = context["user"]
        tasks.send_password_reset_email.delay_on_commit(user.pk)
