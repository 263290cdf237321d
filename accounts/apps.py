from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles and permissions, sign-in security and two-step sign-in.

    The label stays ``consortia``, the app's name before the restructuring: the user
    model is ``consortia.User`` (AUTH_USER_MODEL) and every table and migration keeps
    its name, so an existing database needs no migration to follow the move.
    """

    name = "accounts"
    label = "consortia"
    verbose_name = "Accounts and roles"

    def ready(self):
        # Imported here: apps.py is loaded before the models, and these modules use them.
        from . import security, twofactor

        security.connect_signals()
        security.register_checks()
        twofactor.connect_signals()
        twofactor.hide_device_admin()
