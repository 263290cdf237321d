from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from sers import metrics

        from .scheduled import connect_signals

        connect_signals()
        # Celery tasks' counts and durations, and the worker's metrics port (sers/metrics.py).
        metrics.connect_celery_signals()
