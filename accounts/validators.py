"""Password rules per OWASP ASVS: long passphrases welcome, common passwords refused.

No composition rules (a digit, a capital...) and no forced rotation: ASVS and NIST 800-63B
advise against both. Django's own validators give the minimum length, the similarity
check and the 20,000 most common passwords; these two add an upper bound that still
allows long passphrases, and catch common passwords dressed up with a year or a "!".
"""

import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Words anyone guessing a SERS password tries first.
SERVICE_WORDS = frozenset(
    {
        "sers",
        "cte",
        "ctedualcredit",
        "dualcredit",
        "techprep",
        "college",
        "collegecredit",
        "student",
        "teacher",
        "registrar",
        "school",
        "highschool",
    }
)

# Digits, punctuation and spaces people add around a common word ("Password2025!").
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEPARATORS = re.compile(r"[\s\-_.]+")


class MaximumLengthValidator:
    """Refuse only absurd lengths: passphrases of 64 characters and more are welcome.

    Argon2 hashes any length; the bound keeps a single request from hashing megabytes.
    """

    def __init__(self, max_length: int = 128):
        if max_length < 64:
            raise ValueError("ASVS asks that passwords of at least 64 characters be allowed.")
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long: use at most %(max_length)d character.",
                    "This password is too long: use at most %(max_length)d characters.",
                    self.max_length,
                )
                % {"max_length": self.max_length},
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("Your password can be up to %(max_length)d characters long.") % {
            "max_length": self.max_length
        }


class DecoratedCommonPasswordValidator(CommonPasswordValidator):
    """Django's common-password list, also after stripping digits and symbols off the ends,
    and the service's own words ("Password2025!", "dual credit 1", "Sers!!!")."""

    def validate(self, password: str, user=None) -> None:
        core = _DECORATION.sub("", password.lower().strip())
        squeezed = _SEPARATORS.sub("", core)
        if squeezed in SERVICE_WORDS or (
            len(core) >= 4 and (core in self.passwords or squeezed in self.passwords)
        ):
            raise ValidationError(self.get_error_message(), code="password_too_common")
