from django.apps import AppConfig


class ArticulationsConfig(AppConfig):
    name = "articulations"
    verbose_name = "Articulation agreements"

    def ready(self):
        from .cache import connect_signals

        connect_signals()
