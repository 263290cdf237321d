"""Reset two-step sign-in for someone who lost both their phone and their recovery codes.

    python manage.py two_step_reset person@example.org

Removes their authenticator and recovery codes and signs them out everywhere. If their
role requires two-step sign-in, they set it up again at their next sign-in. Check who is
asking before running it: this is the way around the second step.
"""

import logging

from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.security import user_sessions_end

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Remove a user's authenticator and recovery codes, and end their sessions."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The address the person signs in with.")

    def handle(self, *args, email: str, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError("No account uses that address.")
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        ended = user_sessions_end(user_id=user.pk)
        logger.info("two-step sign-in reset: user_id=%s", user.pk)
        self.stdout.write(
            f"Two-step sign-in reset for user {user.pk}: {removed} records removed, "
            f"{ended} sessions ended."
        )
