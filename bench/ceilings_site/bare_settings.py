"""The bare view's site: Django with no middleware, no app and no database."""

import os
import secrets

SECRET_KEY = os.environ.get("SECRET_KEY", "") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "bench.ceilings_site.bare_urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
TEMPLATES: list = []
USE_TZ = True
