"""`manage.py demo_codes`: the current two-step sign-in code of each demo staff login."""

from django.core.management.base import BaseCommand

from demo.twostep import demo_current_codes, require_demo_codes_allowed


class Command(BaseCommand):
    help = (
        "Print the current two-step sign-in code of each demo staff login, as an "
        "authenticator app would show it (the embedded demo's settings only)."
    )

    def handle(self, *args, **options):
        require_demo_codes_allowed()
        codes = demo_current_codes()
        if not codes:
            self.stdout.write("No demo login has two-step sign-in set up: run manage.py demo_data.")
            return
        width = max(len(c.email) for c in codes)
        for c in codes:
            self.stdout.write(f"{c.email.ljust(width)}  {c.code}  ({c.seconds_left} s left)")
        self.stdout.write("A code works once; after it, wait for the next one (30 seconds).")
