"""The settings of the web hosts and workers tests/multihost/cluster.py starts: production's,
with the static files served from the app folders (no collectstatic before each run)."""

from sers.settings.production import *  # noqa: F403
from sers.settings.production import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
