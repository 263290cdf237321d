"""Text that people type into a form or send in an uploaded file: one set of rules for both.

    from sers.text import TextBlockField, TextLineField

    name = TextLineField(label=_("Name"), max_length=100)
    note = TextBlockField(label=_("Note"), max_length=500, required=False)

- `TextLineField` (names, ids, codes, receipt numbers, titles): one line. Every run of
  white space, tabs and line breaks included, becomes one space; the ends are trimmed.
- `TextBlockField` (notes, reasons, lists of one item a line): line breaks become "\\n"
  (Windows' "\\r\\n" and a lone "\\r" too) and each line is a line of TextLine: its
  white space, tabs included, one space at a time, trimmed; blank lines at either end go.

Both refuse a NUL byte or any other control character, and text longer than `max_length`
with a message that gives the limit: nothing is ever cut short. The uploads
(`sers.uploads.read_table`) clean each cell with these same fields, so a file is held to
the rules of the form. `text_line` and `text_block` are the normalisations alone.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# What is left after the normalisations that no one can type: C0 controls (but the line
# feed of a TextBlock) and DEL. NUL has Django's own validator on every CharField.
_CONTROL = re.compile("[\x01-\x09\x0b-\x1f\x7f]")


def text_line(value: str) -> str:
    """One line: each run of white space (tabs and line breaks too) becomes one space."""
    return " ".join(value.split())


def text_block(value: str) -> str:
    """Several lines: "\\n" line breaks, each line as text_line makes it, no blank lines at
    either end."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(text_line(line) for line in lines).strip("\n")


def refuse_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(
            _("Remove the control character (a character that cannot be typed) from this text."),
            code="control_character",
        )


class _NormalisedTextField(forms.CharField):
    normalise = staticmethod(text_line)

    def __init__(self, **kwargs):
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)
        self.validators.append(refuse_control_characters)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return self.normalise(value)


class TextLineField(_NormalisedTextField):
    """A one-line text field: white space collapsed, control characters and overlong text
    refused (see the module's docstring)."""

    normalise = staticmethod(text_line)


class TextBlockField(_NormalisedTextField):
    """A text field of several lines (a textarea): line breaks as "\\n", tabs as spaces,
    control characters and overlong text refused (see the module's docstring)."""

    normalise = staticmethod(text_block)

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(**kwargs)
