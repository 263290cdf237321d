from django.apps import AppConfig


class ArticulationsConfig(AppConfig):
    name = "articulations"
    verbose_name = "Articulation agreements"

    def ready(self):
        # Imported here: apps.py is loaded before the models, and cache.py uses them.
        from .cache import connect_signals

        connect_signals()
