from django.apps import AppConfig


class ArticulationsConfig(AppConfig):
    name = "articulations"
    verbose_name = "Articulation agreements"
