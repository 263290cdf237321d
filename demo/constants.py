"""The demo's fixed settings: the shared password, the email domains and the build sizes."""

# Everything the demo builds is synthetic: place names are invented or generic, people's
# names are random combinations of common given names and surnames, and every email address
# ends in `sers.example` (a reserved, undeliverable domain). All accounts share one password.

DEMO_PASSWORD = "sers-demo-2026"  # noqa: S105 - synthetic, demo only; printed with the logins
DEMO_DOMAIN = "demo.sers.example"
EMAIL_SUFFIX = ".sers.example"  # every generated account's email ends with this
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"  # written last: its presence means "a build finished"
STUDENTS_PER_YEAR = {"small": 300, "state": 60_500}
STATE_NAMES_FROM = 10_000  # students a year: names at a state's frequencies (vocabulary.py)
MIN_STUDENTS = 20
CHUNK_STUDENTS = 5000  # students whose rows are written in one transaction

DAY = 86_400.0
HOUR = 3_600.0
