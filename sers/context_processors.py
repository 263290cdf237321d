from accounts.permissions import access_for

from .navigation import nav_items


def navigation(request):
    """The signed-in user's Access and menu, so the layout shows the right entries."""
    access = access_for(getattr(request, "user", None))
    return {"access": access, "nav_items": nav_items(access=access, path=request.path)}
