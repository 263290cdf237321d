"""Forms for asking for reports and filtering the reports dashboard."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Access
from enrollment.models import Section
from organisations.models import AcademicYear

from .models import ReportJob
from .selectors import dashboard as dashboard_selectors
from .selectors import jobs as job_selectors

F = ReportJob.Format
TRANSCRIPT_FORMATS = [(F.CSV, F.CSV.label), (F.XLSX, F.XLSX.label), (F.PESC, F.PESC.label)]


def _year_field(*, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=AcademicYear.objects.all(),
        required=required,
        empty_label=_("All school years"),
        label=_("School year"),
    )


class TranscriptReportForm(forms.Form):
    college = forms.ModelChoiceField(queryset=None, label=_("College"), empty_label=None)
    academic_year = forms.ModelChoiceField(
        queryset=AcademicYear.objects.all(),
        required=False,
        empty_label=_("All school years"),
        label=_("School year"),
        help_text=_(
            "All school years: every credit the transcription queue shows as ready, "
            "whatever the year it was earned."
        ),
    )
    term = forms.ChoiceField(
        choices=[("", _("All terms")), *Section.Term.choices],
        required=False,
        label=_("Term"),
        help_text=_("A term needs a school year."),
    )
    since = forms.DateField(
        required=False,
        label=_("Attained on or after"),
        help_text=_("Leave empty for every credit ready to post."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    file_format = forms.ChoiceField(
        choices=TRANSCRIPT_FORMATS,
        initial=F.XLSX,
        label=_("File format"),
    )
    only_new = forms.BooleanField(
        required=False,
        label=_("Only rows not sent before"),
        help_text=_("Leave out rows that an earlier report marked as sent to the registrar."),
    )
    marks_sent = forms.BooleanField(
        required=False,
        label=_("Mark these rows as sent to the registrar"),
        help_text=_("So that the next report with “only rows not sent before” leaves them out."),
    )

    def __init__(self, *args, access: Access, **kwargs):
        super().__init__(*args, **kwargs)
        # No school year by default: the report then holds every credit ready to post,
        # the same ones the registrar's transcription queue shows, whatever their year.
        self.fields["college"].queryset = job_selectors.transcript_colleges(access=access)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("term") and not cleaned.get("academic_year"):
            self.add_error("term", _("Choose the school year of the term."))
        return cleaned


class RerunForm(forms.Form):
    file_format = forms.ChoiceField(choices=TRANSCRIPT_FORMATS, label=_("File format"))


class DashboardFilterForm(forms.Form):
    """The dashboard's filters, read from the query string (so the URL can be shared)."""

    academic_year = _year_field()
    dimension = forms.ChoiceField(
        choices=[(d.key, d.label) for d in dashboard_selectors.DIMENSIONS.values()],
        required=False,
        initial="consortium",
        label=_("Break down by"),
    )


class DashboardExportForm(forms.Form):
    table = forms.ChoiceField(choices=list(dashboard_selectors.DASHBOARD_TABLES.items()))
    academic_year = _year_field()
    dimension = forms.ChoiceField(
        choices=[("", "")] + [(d.key, d.label) for d in dashboard_selectors.DIMENSIONS.values()],
        required=False,
    )
    file_format = forms.ChoiceField(choices=[(F.CSV, F.CSV.label), (F.XLSX, F.XLSX.label)])


class EnrollmentsExportForm(forms.Form):
    academic_year = _year_field(required=True)
    file_format = forms.ChoiceField(
        choices=[(F.CSV, F.CSV.label), (F.XLSX, F.XLSX.label)], label=_("File format")
    )
