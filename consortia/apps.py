from django.apps import AppConfig


class ConsortiaConfig(AppConfig):
    name = "consortia"
    verbose_name = "Consortia, schools and people"

    def ready(self):
        from . import security, twofactor

        security.connect_signals()
        security.register_checks()
        twofactor.connect_signals()
        twofactor.hide_device_admin()
