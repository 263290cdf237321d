from .permissions import access_for


def navigation(request):
    """The signed-in user's Access, so the layout can show the right menu."""
    return {"access": access_for(getattr(request, "user", None))}
