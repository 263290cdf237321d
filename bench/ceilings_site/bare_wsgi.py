"""WSGI entry of the bare site: `gunicorn bench.ceilings_site.bare_wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

# Always the bare settings, whatever the environment says: this process serves nothing else.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.ceilings_site.bare_settings"

application = get_wsgi_application()
