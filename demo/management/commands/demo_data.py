"""`manage.py demo_data`: a realistic, deterministic dataset with a login for every role."""

from django.core.management.base import BaseCommand, CommandError

from demo.build import build_demo_data
from demo.cleanup import delete_demo_data, demo_data_exists, demo_data_partial
from demo.constants import STUDENTS_PER_YEAR
from demo.logins import demo_logins, format_logins, main_consortium_window
from demo.twostep import demo_two_step_prepare, format_recovery_codes


class Command(BaseCommand):
    help = (
        "Build realistic, deterministic demo data (consortia, agreements, classes, students, "
        "enrollments in every status, fees) and print a demo login for every role. Does "
        "nothing but print the logins when the demo data is already there, unless --reset. "
        "With the development settings, the staff logins get two-step sign-in set up and "
        "recovery codes printed (see manage.py demo_codes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            choices=sorted(STUDENTS_PER_YEAR),
            default="small",
            help="small: a few hundred students a year (default); state: over 60,000 students "
            "and 150,000 enrollments a year.",
        )
        parser.add_argument(
            "--students",
            type=int,
            help="Students enrolled in each academic year (overrides --size).",
        )
        parser.add_argument(
            "--years",
            type=int,
            default=2,
            help="Academic years to build: the current one and N-1 before it (default 2).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the existing demo data first."
        )
        parser.add_argument(
            "--bulk-create",
            action="store_true",
            help="On PostgreSQL, write with bulk_create instead of COPY (slower; for comparison).",
        )

    def handle(self, *args, **options):
        students = options["students"] or STUDENTS_PER_YEAR[options["size"]]
        if options["years"] < 2:
            raise CommandError("--years must be at least 2 (the current year and the last).")
        if students < 20:
            raise CommandError("--students must be at least 20.")
        verbose = options["verbosity"] >= 1
        log = self.stdout.write if verbose else None

        if options["reset"]:
            delete_demo_data(log=log)
        elif demo_data_exists():
            self.stdout.write("Demo data is already there (use --reset to rebuild it).")
            self.print_logins()
            return
        elif demo_data_partial():
            self.stdout.write("Found an unfinished demo build; removing it first.")
            delete_demo_data(log=log)

        build_demo_data(
            students_per_year=students,
            years=options["years"],
            seed=options["seed"],
            use_copy=False if options["bulk_create"] else None,
            log=log,
        )
        self.print_logins()

    def print_logins(self):
        """The logins, each login's second step and the registration window: printed once,
        last (`./dev demo` starts the server right after)."""
        window = main_consortium_window()
        recovery_codes = demo_two_step_prepare()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (synthetic accounts, demo only):"))
        self.stdout.write(format_logins(demo_logins()))
        if recovery_codes:
            self.stdout.write("\n" + format_recovery_codes(recovery_codes))
        if window:
            name, opens, closes = window
            self.stdout.write(
                f"\nRegistration at {name} is open {opens.isoformat()} to {closes.isoformat()}."
            )
