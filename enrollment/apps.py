from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Students and enrollments"

    def ready(self):
        from .pagecache import connect_signals

        connect_signals()
