from django.conf import settings

from accounts.permissions import access_for

from .navigation import nav_items


def navigation(request):
    """The signed-in user's Access and menu, so the layout shows the right entries."""
    access = access_for(getattr(request, "user", None))
    return {"access": access, "nav_items": nav_items(access=access, path=request.path)}


def service(request):
    """What the layout says about the service: a demo's flag, the help desk, and the page
    a problem report starts from."""
    return {
        "sers_demo": settings.SERS_DEMO,
        "help_email": settings.SERS_HELP_EMAIL,
        "help_phone": settings.SERS_HELP_PHONE,
        "report_from": _report_from(request),
    }


def _report_from(request) -> str:
    """This page's path for "Report a problem", unless the path holds a secret (a link's
    token or key): then the URL's pattern, so no link that works reaches the help desk."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return request.path
    if any(("token" in name or "key" in name or name == "uidb64") for name in match.kwargs):
        return "/" + match.route
    return request.path
