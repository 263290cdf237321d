"""The site's own pages: the home page and the liveness check."""

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.permissions import access_for
from organisations.selectors import academic_year_current
from reports.selectors.home import home_panels


def home(request):
    """The landing page for visitors; for a signed-in user, real numbers for each role."""
    year = academic_year_current()
    panels = []
    if request.user.is_authenticated:
        panels = home_panels(access=access_for(request.user), year=year)
    return render(request, "home.html", {"year": year, "panels": panels})


@never_cache
def healthz(request):
    """Liveness and database check for the load balancer; also the trivial benchmark view."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
