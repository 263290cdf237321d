from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from .forms import QueuedPasswordResetForm


@never_cache
def healthz(request):
    """Liveness and database check for the load balancer; also the trivial benchmark view."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
