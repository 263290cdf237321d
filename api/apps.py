from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API for college systems"
    default_auto_field = "django.db.models.BigAutoField"
