# One image for every process of the production stack (see docker-compose.yml):
#   web     gunicorn sers.wsgi (the default command)
#   worker  celery -A sers worker
#   beat    celery -A sers beat
#   migrate python manage.py migrate --noinput (and any other one-off manage.py command)
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH

# uv from PyPI, then the locked runtime dependencies (no dev group) in /opt/venv.
# Copying only the project and lock files first keeps this layer cached across code changes.
RUN pip install "uv>=0.8"
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.12

COPY . .

# Static files are collected at build time with the production storage (hashed, compressed
# names in a manifest that whitenoise serves). Production settings refuse insecure
# defaults, so this one command gets throw-away values; none of them stays in the image.
RUN DJANGO_SETTINGS_MODULE=sers.settings.production \
    SECRET_KEY=build-time-only-collectstatic-0000000000000000000000000000000000000 \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend \
    python manage.py collectstatic --noinput

# An unprivileged user; uploads and exports go to the media volume.
RUN groupadd --system sers \
    && useradd --system --gid sers --home-dir /var/lib/sers --shell /usr/sbin/nologin sers \
    && mkdir -p /var/lib/sers/media \
    && chown -R sers:sers /var/lib/sers
USER sers

ENV DJANGO_SETTINGS_MODULE=sers.settings.production \
    MEDIA_ROOT=/var/lib/sers/media \
    WEB_CONCURRENCY=3

EXPOSE 8000

# gunicorn reads the worker count from WEB_CONCURRENCY (about 2 x cores + 1), and
# /app/gunicorn.conf.py: the workers' metrics in multiprocess mode (README: Metrics).
# --timeout well above a slow page, below the proxy's; heavy work belongs in Celery.
# The access log: the path without its query string, no referrer or user agent (a search
# for a student's name is in a query string), and the request id (README: Logs).
CMD ["gunicorn", "sers.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "2000", \
     "--max-requests-jitter", "200", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s\" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s", \
     "--error-logfile", "-"]
