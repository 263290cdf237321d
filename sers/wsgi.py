import os

from django.core.wsgi import get_wsgi_application

from sers import release

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.production")

application = get_wsgi_application()

# The code version (part of the page caches' keys) hashes the source files once per
# process: done as the worker starts, not on its first request.
release.code_version()
