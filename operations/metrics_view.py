"""GET /metrics: the Prometheus metrics, for a scraper holding SERS_METRICS_TOKEN.

Not public: with no token configured, and to any request without the right
`Authorization: Bearer <token>`, it answers exactly like a page that does not exist (404),
so it reveals nothing. The token is compared in constant time. Under gunicorn
(PROMETHEUS_MULTIPROC_DIR, gunicorn.conf.py) the numbers are every worker process's,
merged; the scrape-time collectors (operations/collectors.py) read the database and
Redis here, and only here.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sers import metrics

from .collectors import scrape_collectors


def _authorized(request) -> bool:
    token = getattr(settings, "SERS_METRICS_TOKEN", "") or ""
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


class _Scrape:
    """What one scrape shows: this process's (or every process's) metrics, then the
    scrape-time collectors."""

    def collect(self):
        yield from metrics.process_registry().collect()
        for collector in scrape_collectors():
            yield from collector.collect()


@never_cache
@csrf_exempt  # so that a POST too gets the 404 of any unknown page, not a CSRF failure
def metrics_view(request):
    if not _authorized(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(generate_latest(_Scrape()), content_type=CONTENT_TYPE_LATEST)
