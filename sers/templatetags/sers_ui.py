"""Template filters and tags every template has without {% load %} (TEMPLATES "builtins"):

- `{{ value|sers_date }}`, `{{ value|sers_datetime }}`, `{{ amount|money }}`: one date style
  and one money style per language (sers/formatting.py);
- `{% error_summary_items as error_summary %}`: the errors of every bound form in the
  page's context, then the page's own items (`error_summary_extra`: errors that belong to
  no form, such as a grade refused in one row of a table or the lines of an uploaded file),
  for the error summary at the top of the page (base.html);
- `{% error_summary form %}`: the same summary for one form, where no page summary listed
  it already (crispy's error block, templates/bootstrap5/errors.html: partials that htmx
  swaps in have no page around them).

The summary follows GOV.UK's error summary: "There is a problem", then one link per error
to its field, the field's label first (Django's messages, such as "This field is
required.", do not name the field); errors that belong to no field link to the form's
first field. static/js/sers.js moves the focus to it when the page loads.
"""

from dataclasses import dataclass

from django import template
from django.forms import BaseForm, BaseFormSet, RadioSelect
from django.forms.forms import NON_FIELD_ERRORS
from django.template.loader import render_to_string

from sers.formatting import display_date, display_datetime
from sers.formatting import money as format_money

register = template.Library()

SHOWN = "_sers_error_summary_shown"
EXTRA = "error_summary_extra"  # a view's own SummaryItems, listed after the forms' errors


@register.filter
def sers_date(value):
    return display_date(value)


@register.filter
def sers_datetime(value):
    return display_datetime(value)


@register.filter
def money(value):
    return format_money(value)


@dataclass(frozen=True)
class SummaryItem:
    message: str
    label: str = ""
    target: str = ""  # the id of the control the link moves to

    @property
    def text(self) -> str:
        """The message after the field's label: "Your name: Enter your name", or after a
        question as it stands ("What went wrong? This field is required.")."""
        if not self.label:
            return self.message
        label = self.label.strip().rstrip(":")
        return (
            f"{label} {self.message}" if label.endswith(("?", "!")) else f"{label}: {self.message}"
        )


def _validated(form) -> bool:
    """A bound form whose errors the view has computed already: reading them again runs
    no query (a form never validated shows its own summary, through crispy, if any)."""
    return isinstance(form, BaseForm | BaseFormSet) and form.is_bound and form._errors is not None


def _forms_in(value) -> list:
    """The validated forms a context value holds: a form, a formset, a filter's form.
    Looks at the value's type first, so a lazy object (the user) is never evaluated."""
    kind = type(value)
    if issubclass(kind, BaseForm | BaseFormSet):
        return [value] if _validated(value) else []
    if isinstance(getattr(kind, "form", None), property):
        # a django-filter FilterSet keeps the form it built in _form
        inner = value.__dict__.get("_form")
        return [inner] if _validated(inner) else []
    return []


def _target(bound) -> str:
    """The id of the control a link to this field moves to: a group of radios or
    checkboxes has no label of its own, so its first option (Django names it <id>_0)."""
    if bound.id_for_label:
        return bound.id_for_label
    if bound.auto_id and isinstance(bound.field.widget, RadioSelect):  # checkboxes too
        return f"{bound.auto_id}_0"
    return bound.auto_id or ""


def field_item(bound, message) -> SummaryItem:
    """An item about a field that is not one of its form's errors (the lines of the file
    it took, for example): labelled and linked like the field's own errors."""
    return SummaryItem(str(message), label=str(bound.label or ""), target=_target(bound))


def _first_target(form: BaseForm) -> str:
    for bound in form.visible_fields():
        return _target(bound)
    return ""


def _form_items(form: BaseForm) -> list[SummaryItem]:
    if not form.errors:
        return []
    items = [SummaryItem(str(e), target=_first_target(form)) for e in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            continue
        bound = form[name]
        if bound.is_hidden:
            items += [SummaryItem(str(e), target=_first_target(form)) for e in errors]
            continue
        target = _target(bound)
        items += [SummaryItem(str(e), label=str(bound.label or ""), target=target) for e in errors]
    return items


def summary_items(forms) -> list[SummaryItem]:
    """Every error of these forms (and formsets), in page order, each form marked as
    summarised so that its own error block does not list them again."""
    items: list[SummaryItem] = []
    for form in forms:
        if isinstance(form, BaseFormSet):
            items += [SummaryItem(str(e)) for e in form.non_form_errors()]
            for inner in form.forms:
                items += _form_items(inner)
                setattr(inner, SHOWN, True)
        else:
            items += _form_items(form)
        setattr(form, SHOWN, True)
    return items


@register.simple_tag(takes_context=True)
def error_summary_items(context) -> list[SummaryItem]:
    """The errors of every bound form in the page's context, then the items the view
    gives in `error_summary_extra` (base.html)."""
    seen: set[int] = set()
    forms = []
    for value in context.flatten().values():
        for form in _forms_in(value):
            if id(form) not in seen:
                seen.add(id(form))
                forms.append(form)
    return summary_items(forms) + list(context.get(EXTRA) or ())


@register.simple_tag(takes_context=True)
def error_summary(context, form) -> str:
    """The summary of one form's errors, unless the page's summary has them already."""
    if not isinstance(form, BaseForm | BaseFormSet) or getattr(form, SHOWN, False):
        return ""
    items = summary_items([form])
    if not items:
        return ""
    return render_to_string("components/error_summary.html", {"error_summary": items})
