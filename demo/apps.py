"""The demo app: realistic, synthetic sample data for `manage.py demo_data`."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo data"
