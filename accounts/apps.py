from django.apps import AppConfig
from django.db.models import fields
from django.utils.translation import gettext_lazy as _


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
        # Every select's empty choice, in SERS's words and catalog: Django's own wording
        # ("- Select an option -") has no Spanish in Django's catalog yet.
        fields.BLANK_CHOICE_LABEL = _("Choose one")
