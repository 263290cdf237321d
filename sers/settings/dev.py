"""The embedded demo: SQLite by default, tasks in-process, emails on the console."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = ["*"]
SERS_DEMO = env_bool("SERS_DEMO", True)  # the embedded demo: "Demo: sample data only"
SERS_DEMO_SIGN_IN_CODES = SERS_DEMO  # staff logins with two-step codes to hand (demo/twostep.py)
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the app folders; no collectstatic needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
