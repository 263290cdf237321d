from django.shortcuts import render

from consortia.permissions import access_for
from consortia.selectors import academic_year_current

from .selectors import home_panels


def home(request):
    """The landing page for visitors; for a signed-in user, real numbers for each role."""
    year = academic_year_current()
    panels = []
    if request.user.is_authenticated:
        panels = home_panels(access=access_for(request.user), year=year)
    return render(request, "reports/home.html", {"year": year, "panels": panels})
