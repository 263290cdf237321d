from django.urls import path

from .views import bare

urlpatterns = [path("bench/bare", bare, name="bench_bare")]
