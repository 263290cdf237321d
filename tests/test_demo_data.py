"""The demo dataset: `manage.py demo_data` builds consistent, deterministic data."""

import itertools
import random
import re
import time
from collections import defaultdict
from datetime import date
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models
from django.db.models import Count
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, RoleMembership, User
from articulations.models import Articulation
from demo.build import build_demo_data
from demo.catalog import CONSORTIA
from demo.cleanup import delete_demo_data
from demo.constants import ADMIN_EMAIL, DEMO_DOMAIN, DEMO_PASSWORD, MIN_STUDENTS
from demo.rows import Table
from demo.vocabulary import FIRST_NAMES, LAST_NAMES, ascii_lower, state_person
from enrollment.models import (
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    Section,
    StudentProfile,
)
from enrollment.services.signup import sers_id_is_valid
from enrollment.services.transitions import ALLOWED_TRANSITIONS
from organisations.grades import meets_minimum
from organisations.models import AcademicYear, ConsortiumPolicy, HighSchool
from organisations.selectors import academic_year_current
from tests.factories import ConsortiumFactory, UserFactory

S = EnrollmentStatus
SEED = 7
SMALL = {"students": 60, "seed": SEED}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One small build shared by the module (committed; removed again afterwards).

    Tests that rebuild run inside their own transaction, which is rolled back."""
    with django_db_blocker.unblock():
        years_before = set(AcademicYear.objects.values_list("pk", flat=True))
        out = StringIO()
        call_command("demo_data", stdout=out, **SMALL)
        yield out.getvalue()
        delete_demo_data()
        AcademicYear.objects.exclude(pk__in=years_before).delete()


def identities():
    return sorted(
        StudentProfile.objects.values_list(
            "sers_id", "legal_first_name", "legal_middle_name", "legal_last_name", "birth_date"
        )
    )


def table_counts():
    return {
        model.__name__: model.objects.count()
        for model in (User, StudentProfile, Section, Enrollment, EnrollmentStatusChange, Fee)
    }


def birth_dates_in(text: str) -> list[date]:
    found = []
    for born in StudentProfile.objects.values_list("birth_date", flat=True):
        formats = (born.isoformat(), born.strftime("%m/%d/%Y"), born.strftime("%B %d, %Y"))
        if any(f in text for f in formats):
            found.append(born)
    return found


def test_every_enrollment_status_across_two_years(demo):
    by_year = defaultdict(set)
    for code, status in Enrollment.objects.values_list("section__academic_year__code", "status"):
        by_year[code].add(status)
    assert len(by_year) >= 2
    assert set().union(*by_year.values()) == set(S.values)
    current = academic_year_current()
    assert by_year[current.code]  # this year has enrollments of its own


def test_every_articulation_status_and_a_revision(demo):
    statuses = set(Articulation.objects.values_list("status", flat=True))
    assert statuses == set(Articulation.Status.values)
    revision = Articulation.objects.filter(version=2, previous_version__isnull=False).first()
    assert revision is not None
    assert revision.previous_version.version == 1
    assert revision.previous_version.agreement_number == revision.agreement_number
    active = Articulation.objects.filter(status="active").first()
    assert active.college_courses.exists()
    assert active.valid_years.exists()
    assert active.high_schools.exists()
    assert active.qualifications.exists()
    assert active.competency_list
    assert active.status_changes.order_by("changed_at").last().to_status == "active"


@pytest.mark.parametrize(
    ("local", "role"),
    [
        ("student", None),
        ("teacher", Role.TEACHER),
        ("specialist", Role.CAREER_SPECIALIST),
        ("registrar", Role.REGISTRAR),
        ("approver", Role.COLLEGE_APPROVER),
        ("consortium", Role.CONSORTIUM_ADMIN),
        ("state", Role.STATE_STAFF),
        ("admin", None),
    ],
)
def test_each_demo_login_exists_and_signs_in(demo, client, local, role):
    email = f"{local}@{DEMO_DOMAIN}"
    user = User.objects.get(email=email)
    assert user.is_active
    assert user.email_verified_at is not None
    assert client.login(email=email, password=DEMO_PASSWORD)
    assert email in demo  # printed in the logins table
    if role:
        assert RoleMembership.objects.filter(user=user, role=role).exists()
    if local == "student":
        assert StudentProfile.objects.filter(user=user).exists()
    if local == "admin":
        assert user.is_superuser
        assert user.is_staff
    if local == "specialist":
        assert RoleMembership.objects.get(user=user).district_id is not None


def test_demo_people_have_something_to_do(demo):
    current = academic_year_current()
    student = StudentProfile.objects.get(user__email=f"student@{DEMO_DOMAIN}")
    mine = student.enrollments.values_list("status", flat=True)
    this_year = set(mine.filter(section__academic_year=current))
    assert len(this_year) >= 2
    earlier = set(mine.exclude(section__academic_year=current))
    assert {S.ATTAINED, S.TRANSCRIBED} <= earlier

    teacher = User.objects.get(email=f"teacher@{DEMO_DOMAIN}")
    sections = Section.objects.filter(teacher=teacher, academic_year=current)
    assert sections.exists()
    assert Enrollment.objects.filter(section__in=sections).exists()

    registrar = RoleMembership.objects.get(user__email=f"registrar@{DEMO_DOMAIN}")
    settled = {(f.student_id, f.academic_year_id) for f in Fee.objects.all() if f.is_settled}
    eligible = [
        e
        for e in Enrollment.objects.filter(
            status=S.ATTAINED, section__articulation__college_id=registrar.college_id
        ).select_related("section")
        if (e.student_id, e.section.academic_year_id) in settled
    ]
    assert eligible


def test_an_inactive_teacher_has_a_class_nobody_could_join(demo):
    section = Section.objects.filter(teacher__is_active=False).first()
    assert section is not None
    assert RoleMembership.objects.filter(
        user=section.teacher, role=Role.TEACHER, high_school=section.high_school
    ).exists()
    assert not section.enrollments.filter(section__academic_year=academic_year_current()).exists()


def test_skills_center_serves_several_districts(demo):
    center = HighSchool.objects.filter(kind=HighSchool.Kind.SKILLS_CENTER).first()
    assert center is not None
    assert center.served_districts.count() >= 2
    assert Section.objects.filter(high_school=center).exists()


def test_fees_paid_waived_and_unpaid_as_their_policy_says(demo):
    policies = {(p.consortium_id, p.academic_year_id): p for p in ConsortiumPolicy.objects.all()}
    statuses = set()
    for fee in Fee.objects.all():
        policy = policies[(fee.consortium_id, fee.academic_year_id)]
        assert fee.amount == policy.annual_fee
        statuses.add(fee.status)
        if fee.status == Fee.Status.PAID:
            assert fee.paid_on
            assert fee.receipt_number
            assert fee.paid_amount == fee.amount
        if fee.status == Fee.Status.WAIVED:
            assert fee.waiver_reason in policy.waiver_reason_list
    assert statuses == set(Fee.Status.values)
    assert Fee.objects.filter(amount=0).exists()  # a consortium that charges nothing
    duplicates = Fee.objects.values("student", "consortium", "academic_year").annotate(
        n=Count("id")
    )
    assert all(row["n"] == 1 for row in duplicates)


def test_policies_differ_between_consortia(demo):
    current = academic_year_current()
    policies = ConsortiumPolicy.objects.filter(academic_year=current)
    assert len({p.annual_fee for p in policies}) >= 3
    assert len({(p.grade_scale, p.default_minimum_grade) for p in policies}) >= 3
    assert len({(p.registration_opens, p.registration_closes) for p in policies}) >= 2
    assert all(p.payment_instructions for p in {p.consortium for p in policies})


def test_main_consortium_registration_is_open_today(demo):
    policy = ConsortiumPolicy.objects.get(
        consortium__slug=CONSORTIA[0].slug, academic_year=academic_year_current()
    )
    assert policy.registration_open_on(timezone.localdate())
    assert policy.registration_open_on(date.today())


def test_histories_match_statuses(demo):
    histories = defaultdict(list)
    for row in EnrollmentStatusChange.objects.order_by("enrollment_id", "changed_at", "id"):
        histories[row.enrollment_id].append(row)
    now = timezone.now()
    enrollments = Enrollment.objects.select_related("section__teacher", "student__user")
    assert enrollments.exists()
    for e in enrollments:
        rows = histories[e.pk]
        assert rows[0].from_status == ""
        assert rows[0].to_status == S.REGISTERED
        assert rows[-1].to_status == e.status
        assert rows[0].changed_at == e.created_at
        assert rows[-1].changed_at == e.status_changed_at <= now
        for before, after in itertools.pairwise(rows):
            assert after.from_status == before.to_status
            assert after.to_status in ALLOWED_TRANSITIONS[before.to_status]
            assert after.changed_at > before.changed_at
        for row in rows:
            if row.to_status in (S.CONFIRMED, S.GRADED, S.ATTAINED, S.NOT_ATTAINED):
                assert row.changed_by_id == e.section.teacher_id
            if row.to_status == S.TRANSCRIBED:
                assert RoleMembership.objects.filter(
                    user_id=row.changed_by_id,
                    role=Role.REGISTRAR,
                    college_id=e.section.articulation.college_id,
                ).exists()
        if e.registered_by_id is None:
            assert rows[0].changed_by_id == e.student.user_id


def test_grades_fit_the_articulation_minimum(demo):
    graded = Enrollment.objects.filter(
        status__in=[S.GRADED, S.ATTAINED, S.NOT_ATTAINED, S.TRANSCRIBED]
    ).select_related("section__articulation")
    assert graded.exists()
    for e in graded:
        art = e.section.articulation
        met = meets_minimum(
            scale=art.minimum_grade_scale,
            grade=e.grade,
            minimum_scale=art.minimum_grade_scale,
            minimum=art.minimum_grade,
        )
        if e.status in (S.ATTAINED, S.TRANSCRIBED):
            assert met
        if e.status == S.NOT_ATTAINED:
            assert not met
        if e.status == S.TRANSCRIBED:
            assert e.transcribed_on
            assert e.college_student_id
    assert (
        not Enrollment.objects.filter(
            status__in=[S.REGISTERED, S.CONFIRMED, S.WITHDRAWN, S.REMOVED]
        )
        .exclude(grade="")
        .exists()
    )


def test_students_are_plausible_and_unique(demo):
    profiles = list(StudentProfile.objects.all())
    ids = [p.sers_id for p in profiles]
    assert len(ids) == len(set(ids))
    assert all(sers_id_is_valid(sers_id) for sers_id in ids)
    assert any(p.legal_middle_name for p in profiles)
    assert any(p.gender for p in profiles)
    assert any(not p.gender for p in profiles)
    for p in profiles:
        # Graduating in June at 17-19 (a few a year early or late).
        assert 17 <= p.graduation_year - p.birth_date.year <= 20
        assert p.user.email.endswith(".sers.example")


def test_running_twice_does_not_duplicate(demo):
    before = table_counts()
    out = StringIO()
    call_command("demo_data", stdout=out, **SMALL)
    assert table_counts() == before
    assert "already there" in out.getvalue()
    assert ADMIN_EMAIL in out.getvalue()
    assert not birth_dates_in(out.getvalue())


def test_reset_rebuilds_the_same_data_from_the_same_seed(demo):
    before_counts, before_ids = table_counts(), identities()
    out = StringIO()
    call_command("demo_data", reset=True, stdout=out, **SMALL)
    assert table_counts() == before_counts
    assert identities() == before_ids
    assert not birth_dates_in(out.getvalue())

    call_command("demo_data", reset=True, stdout=StringIO(), students=60, seed=SEED + 1)
    assert {i[0] for i in identities()}.isdisjoint({i[0] for i in before_ids})


def test_reset_leaves_other_data_alone(demo):
    other_user = UserFactory(email="someone@example.org")
    other_consortium = ConsortiumFactory()
    call_command("demo_data", reset=True, stdout=StringIO(), **SMALL)
    assert User.objects.filter(pk=other_user.pk).exists()
    assert type(other_consortium).objects.filter(pk=other_consortium.pk).exists()


def test_output_shows_no_birth_dates(demo):
    assert "sers-demo-2026" in demo
    assert not birth_dates_in(demo)


def test_default_small_build_is_fast(demo):
    start = time.perf_counter()
    out = StringIO()
    call_command("demo_data", reset=True, stdout=out)
    assert time.perf_counter() - start < 30
    assert StudentProfile.objects.count() >= 300
    assert not birth_dates_in(out.getvalue())


def test_rows_are_written_in_every_column_of_their_model(demo):
    """No column list is kept by hand: every table is written in all of its model's
    concrete fields, in order, leaving out only a primary key the database assigns; the
    fields the demo leaves out get their model default."""
    delete_demo_data()
    result = build_demo_data(students_per_year=MIN_STUDENTS, seed=SEED)
    assert set(result.columns) == set(result.counts)
    assert {"consortia.User", "enrollment.Enrollment", "enrollment.Fee"} <= set(result.columns)
    for label, columns in result.columns.items():
        model = apps.get_model(label)
        fields = [f.attname for f in model._meta.concrete_fields]
        pk = model._meta.pk
        if pk.attname not in columns:
            assert isinstance(pk, models.AutoField), label
            fields.remove(pk.attname)
        assert columns == tuple(fields), label
    kind = EnrollmentStatusChange._meta.get_field("kind").default
    assert set(EnrollmentStatusChange.objects.values_list("kind", flat=True)) == {kind}
    language = StudentProfile._meta.get_field("language").default
    assert set(StudentProfile.objects.values_list("language", flat=True)) == {language}


@isolate_apps("demo")
def test_a_new_field_gets_its_default_and_a_required_one_fails_loudly():
    class Probe(models.Model):
        name = models.CharField(max_length=20)
        kind = models.CharField(max_length=20, default="plain")  # added later, with a default
        note = models.TextField(null=True)
        tags = models.JSONField(default=list)  # made for each row
        added = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "demo"

        def __str__(self):
            return self.name

    class Stricter(models.Model):
        name = models.CharField(max_length=20)
        code = models.CharField(max_length=5)  # added later, required, no default

        class Meta:
            app_label = "demo"

        def __str__(self):
            return self.name

    table = Table(Probe)
    assert table.columns == ("id", "name", "kind", "note", "tags", "added")
    first, second = table.row(id=1, name="a"), table.row(id=2, name="b", added=None)
    assert first[:5] == (1, "a", "plain", None, [])
    assert first[4] is not second[4]
    assert first[5] <= timezone.now()
    without_pk = Table(Probe, pk=False).row(name="a", kind="odd", added=None)
    assert without_pk == ("a", "odd", None, [], None)
    with pytest.raises(TypeError, match=r"Table\(demo\.Stricter\).*missing.*'code'"):
        Table(Stricter).row(id=1, name="a")
    with pytest.raises(TypeError, match=r"missing.*'id'"):
        table.row(name="a")  # the primary key is handed out in advance: required too
    with pytest.raises(TypeError, match=r"unexpected.*'colour'"):
        table.row(id=1, name="a", colour="red")


# --- signing in as every role: two-step sign-in ready for the demo's staff ----------------

DEMO_LOCALS = ["student", "teacher", "specialist", "registrar", "approver", "consortium", "state"]
TWO_STEP_LOCALS = {"admin", "consortium", "registrar", "specialist", "state"}


@pytest.fixture
def demo_codes_on(settings):
    """The development settings of the embedded demo (sers/settings/dev.py)."""
    settings.SERS_DEMO_SIGN_IN_CODES = True
    settings.SERS_TWO_FACTOR_REQUIRED = True


def printed_recovery_codes(output: str) -> dict[str, list[str]]:
    codes = {}
    for line in output.splitlines():
        email, *rest = line.split() or [""]
        if email.endswith(f"@{DEMO_DOMAIN}") and rest and all(len(c) == 19 for c in rest):
            codes[email] = rest
    return codes


def test_the_progress_and_the_logins_are_printed_once(demo):
    assert demo.count("Building demo data") == 1
    assert demo.count("Demo logins (synthetic accounts, demo only):") == 1


def test_every_demo_login_signs_in_without_an_authenticator_app(demo, client, demo_codes_on):
    """Staff logins ask for the second step, and the demo prints what to type: the current
    code (manage.py demo_codes) or a recovery code from the login table."""
    out = StringIO()
    call_command("demo_data", stdout=out, **SMALL)
    recovery = printed_recovery_codes(out.getvalue())
    assert set(recovery) == {f"{local}@{DEMO_DOMAIN}" for local in TWO_STEP_LOCALS}
    assert "manage.py demo_codes" in out.getvalue()
    codes_out = StringIO()
    call_command("demo_codes", stdout=codes_out)
    current = dict(re.findall(r"^(\S+@\S+)\s+(\d{6})\s", codes_out.getvalue(), re.M))
    assert set(current) == set(recovery)

    for local in [*DEMO_LOCALS, "admin"]:
        email = f"{local}@{DEMO_DOMAIN}"
        client.logout()
        assert client.login(email=email, password=DEMO_PASSWORD)
        home = client.get(reverse("home"))
        if local not in TWO_STEP_LOCALS:
            assert home.status_code == 200, email
            continue
        assert home.status_code == 302
        assert home.url.startswith(reverse("accounts:two_factor_verify"))
        # The code a newcomer reads off `manage.py demo_codes`; the admin uses a recovery code.
        code = recovery[email][0] if local == "admin" else current[email]
        answer = client.post(reverse("accounts:two_factor_verify"), {"code": code})
        assert answer.status_code == 302, email
        assert client.get(reverse("home")).status_code == 200, email


def test_demo_codes_are_refused_outside_the_demo_settings(demo, settings):
    """The shortcut is the development settings' alone: elsewhere the demo staff set up
    two-step sign-in like anyone else."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from demo.twostep import demo_two_step_prepare

    settings.SERS_DEMO_SIGN_IN_CODES = False
    settings.SERS_TWO_FACTOR_REQUIRED = True
    assert demo_two_step_prepare() == {}
    assert not TOTPDevice.objects.filter(user__email__endswith=DEMO_DOMAIN).exists()
    with pytest.raises(CommandError, match="embedded demo only"):
        call_command("demo_codes", stdout=StringIO())
    out = StringIO()
    call_command("demo_data", stdout=out, **SMALL)
    assert "demo_codes" not in out.getvalue()


def test_state_size_names_follow_a_states_frequencies():
    """The state-size data draws a state's names at their frequencies (many names, the
    common ones often), not the small demo's short list: the statewide duplicate check
    weighs a name's agreement by how common it is."""
    rng = random.Random(1)
    people = [state_person(rng) for _ in range(20_000)]
    given, family = {p[0] for p in people}, {p[1] for p in people}
    assert len(given) > 800
    assert len(family) > 1_000
    assert not given <= set(FIRST_NAMES)
    assert not family <= set(LAST_NAMES)
    smiths = sum(1 for _given, last in people if last == "Smith")
    assert 100 < smiths < 400  # the commonest US family name, about 1.3% here
    assert ascii_lower("Nguyễn Ngọc") == "nguyenngoc"
