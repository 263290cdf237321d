"""Forms for agreements, their teachers, college courses, roll-over and import."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountState, User
from organisations.clusters import ClusterField
from organisations.grades import GradeScale
from organisations.models import AcademicYear, CareerCluster, College, Consortium, HighSchool
from sers.text import TextBlockField, TextLineField
from sers.uploads import SpreadsheetField

from .importers import MAX_BYTES
from .models import Articulation, CollegeCourse
from .selectors import consortium_teachers
from .terms import COMPETENCIES_MAX_LENGTH, AgreementTerms


class FastSelect(forms.Select):
    """A single <select> built in Python rather than with a template per option.

    The public search lists every school and district in the state (hundreds of options);
    Django's per-option templates took longer than the search query itself. Groups of
    choices become <optgroup>s (the class list's schools).
    """

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        chosen = {str(v) for v in self.format_value(value)}
        selected = mark_safe(" selected")

        def options(choices):
            return format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (option, selected if str(option) in chosen else "", label)
                    for option, label in choices
                ),
            )

        parts = []
        for option, label in self.choices:
            if isinstance(label, list | tuple):  # a group: (group label, [(value, label)...])
                parts.append(
                    format_html('<optgroup label="{}">{}</optgroup>', option, options(label))
                )
            else:
                parts.append(options([(option, label)]))
        body = format_html_join("", "{}", ((part,) for part in parts))  # parts are safe
        return format_html("<select{}>{}</select>", flatatt(final_attrs), body)


class SchoolChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: HighSchool) -> str:
        if obj.is_skills_center:
            return _("%(name)s (skills center)") % {"name": obj.name}
        return obj.name


class CollegeCourseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: CollegeCourse) -> str:
        return _("%(code)s %(title)s, %(credits)s credits (%(college)s)") % {
            "code": obj.code,
            "title": obj.title,
            "credits": obj.credits,
            "college": obj.college.code,
        }


def teacher_label(obj: User) -> str:
    name = obj.get_full_name() or obj.email
    state = obj.account_state
    if state != AccountState.ACTIVE:
        return _("%(name)s (%(email)s): %(state)s") % {
            "name": name,
            "email": obj.email,
            "state": state.label,
        }
    return f"{name} ({obj.email})"


class TeacherChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return teacher_label(obj)


class TeacherField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return teacher_label(obj)


class ArticulationForm(forms.Form):
    """The terms of one agreement version, for a consortium's own schools and colleges."""

    agreement_number = TextLineField(
        label=_("Agreement number"),
        max_length=20,
        required=False,
        help_text=_("Leave blank to number it automatically."),
    )
    high_school_course_title = TextLineField(label=_("High-school course title"), max_length=200)
    local_code = TextLineField(
        label=_("Local course code"),
        max_length=20,
        required=False,
        help_text=_("The district's own code, if any."),
    )
    cip_code = TextLineField(
        label=_("CIP code"), max_length=7, help_text=_("Six digits, written xx.xxxx.")
    )
    high_schools = SchoolChoiceField(
        label=_("Schools that teach the course"),
        queryset=HighSchool.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    college = forms.ModelChoiceField(label=_("College"), queryset=College.objects.none())
    college_courses = CollegeCourseChoiceField(
        label=_("College courses"),
        queryset=CollegeCourse.objects.none(),
        help_text=_("Hold Ctrl (or Cmd) to choose more than one. Only the chosen college's."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    cluster = ClusterField(
        label=_("Career cluster"), queryset=CareerCluster.objects.filter(is_active=True)
    )
    minimum_grade_scale = forms.ChoiceField(
        label=_("Minimum grade scale"), choices=GradeScale.choices, initial=GradeScale.LETTER
    )
    minimum_grade = TextLineField(
        label=_("Minimum grade"), max_length=5, help_text=_("For example B, 3.0 or 85.")
    )
    competencies = TextBlockField(
        label=_("Competencies"),
        max_length=COMPETENCIES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One competency per line."),
    )
    valid_years = forms.ModelMultipleChoiceField(
        label=_("Valid school years"),
        queryset=AcademicYear.objects.order_by("-start_date"),
        widget=forms.CheckboxSelectMultiple,
    )
    teachers = TeacherChoiceField(
        label=_("Qualified teachers"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Teachers with an account at one of the chosen schools. Invite new teachers "
            "from the agreement's Teachers page."
        ),
    )
    renew_each_year = forms.BooleanField(
        label=_("Renew each year"),
        required=False,
        initial=True,
        help_text=_("Include this agreement in the annual roll-over."),
    )

    def __init__(self, *args, consortium: Consortium, with_number: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.consortium = consortium
        self.fields["high_schools"].queryset = HighSchool.objects.filter(
            district__consortium=consortium
        ).order_by("name")
        self.fields["college"].queryset = College.objects.filter(consortium=consortium)
        self.fields["college_courses"].queryset = (
            CollegeCourse.objects.filter(college__consortium=consortium, is_active=True)
            .select_related("college")
            .order_by("college__code", "prefix", "number")
        )
        self.fields["teachers"].queryset = consortium_teachers(consortium_ids={consortium.pk})
        if not with_number:
            del self.fields["agreement_number"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("High-school side"),
                *(["agreement_number"] if with_number else []),
                "high_school_course_title",
                "local_code",
                "cip_code",
                "cluster",
                "high_schools",
            ),
            Fieldset(_("College side"), "college", "college_courses"),
            Fieldset(
                _("Minimum grade and competencies"),
                "minimum_grade_scale",
                "minimum_grade",
                "competencies",
            ),
            Fieldset(_("When and who"), "valid_years", "teachers", "renew_each_year"),
        )

    @classmethod
    def initial_for(cls, articulation: Articulation) -> dict:
        terms = AgreementTerms.of(articulation)
        return {
            "high_school_course_title": terms.high_school_course_title,
            "local_code": terms.local_code,
            "cip_code": terms.cip_code,
            "college": terms.college_id,
            "cluster": terms.cluster_id,
            "minimum_grade_scale": terms.minimum_grade_scale,
            "minimum_grade": terms.minimum_grade,
            "competencies": terms.competencies,
            "renew_each_year": terms.renew_each_year,
            "high_schools": sorted(terms.high_school_ids),
            "college_courses": sorted(terms.college_course_ids),
            "valid_years": sorted(terms.valid_year_ids),
            "teachers": sorted(terms.teacher_ids),
        }

    def to_terms(self) -> AgreementTerms:
        data = self.cleaned_data
        return AgreementTerms(
            college_id=data["college"].pk,
            high_school_course_title=data["high_school_course_title"],
            cip_code=data["cip_code"],
            local_code=data.get("local_code", ""),
            cluster_id=data["cluster"].pk,
            minimum_grade_scale=data["minimum_grade_scale"],
            minimum_grade=data["minimum_grade"],
            competencies=data.get("competencies", ""),
            renew_each_year=data.get("renew_each_year", False),
            high_school_ids=frozenset(s.pk for s in data["high_schools"]),
            college_course_ids=frozenset(c.pk for c in data["college_courses"]),
            valid_year_ids=frozenset(y.pk for y in data["valid_years"]),
            teacher_ids=frozenset(t.pk for t in data.get("teachers", [])),
        )


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(choices=Articulation.Status.choices, widget=forms.HiddenInput)
    note = TextBlockField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AddTeacherForm(forms.Form):
    teacher = TeacherField(label=_("Teacher"), queryset=User.objects.none())

    def __init__(self, *args, teachers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teachers is not None:
            self.fields["teacher"].queryset = teachers


class CollegeCourseForm(forms.Form):
    college = forms.ModelChoiceField(label=_("College"), queryset=College.objects.none())
    prefix = TextLineField(label=_("Prefix"), max_length=8, help_text=_("For example ACCT."))
    number = TextLineField(label=_("Number"), max_length=8, help_text=_("For example 101."))
    title = TextLineField(label=_("Title"), max_length=200)
    credits = forms.DecimalField(label=_("Credits"), max_digits=4, decimal_places=1, min_value=0.1)

    def __init__(self, *args, colleges=None, **kwargs):
        super().__init__(*args, **kwargs)
        if colleges is not None:
            self.fields["college"].queryset = colleges


class RolloverForm(forms.Form):
    consortium = forms.ModelChoiceField(
        label=_("Consortium"), queryset=Consortium.objects.none(), empty_label=None
    )
    from_year = forms.ModelChoiceField(
        label=_("Renew agreements of"),
        queryset=AcademicYear.objects.order_by("-start_date"),
        to_field_name="code",
        empty_label=None,
    )

    def __init__(self, *args, consortia=None, **kwargs):
        super().__init__(*args, **kwargs)
        if consortia is not None:
            self.fields["consortium"].queryset = consortia


class ImportForm(forms.Form):
    consortium = forms.ModelChoiceField(
        label=_("Consortium"), queryset=Consortium.objects.none(), empty_label=None
    )
    # Checked as every upload is (sers.uploads): size, kind, encoding.
    file = SpreadsheetField(
        kinds=("csv", "xlsx"),
        max_bytes=MAX_BYTES,
        label=_("File (.csv or .xlsx)"),
        help_text=_("One row per agreement version. At most 5 MB."),
    )

    def __init__(self, *args, consortia=None, **kwargs):
        super().__init__(*args, **kwargs)
        if consortia is not None:
            self.fields["consortium"].queryset = consortia
