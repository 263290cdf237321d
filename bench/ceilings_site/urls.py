"""The project's URLs and, before them, the two bench-only views."""

from django.urls import path

from sers.urls import urlpatterns as site_urlpatterns

from . import views

urlpatterns = [
    # The bare view through the whole middleware stack: what the middleware costs alone.
    path("bench/bare", views.bare, name="bench_bare"),
    # The signed-in write floor: one row inserted and committed, CSRF-checked.
    path("bench/write", views.write, name="bench_write"),
    *site_urlpatterns,
]
