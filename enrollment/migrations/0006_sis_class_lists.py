# The schools' class lists (OneRoster imports): SisImport, SisClass, SisStudent,
# SisEnrollment and SisClassMapping.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0005_organisations_moved"),
        ("organisations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SisImport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("imported_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("source_system", models.CharField(blank=True, max_length=100)),
                ("is_current", models.BooleanField(default=True)),
                ("classes_count", models.PositiveIntegerField(default=0)),
                ("students_count", models.PositiveIntegerField(default=0)),
                ("enrollments_count", models.PositiveIntegerField(default=0)),
                (
                    "high_school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sis_imports",
                        to="organisations.highschool",
                    ),
                ),
                (
                    "imported_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "teacher",
                    models.ForeignKey(
                        blank=True,
                        help_text="A teacher's own upload: it shows on their classes only.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-imported_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="SisClass",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sourced_id", models.CharField(max_length=255)),
                ("title", models.CharField(max_length=255)),
                ("class_code", models.CharField(blank=True, max_length=100)),
                ("course_title", models.CharField(blank=True, max_length=255)),
                ("course_code", models.CharField(blank=True, max_length=100)),
                ("periods", models.CharField(blank=True, max_length=100)),
                ("location", models.CharField(blank=True, max_length=100)),
                (
                    "terms",
                    models.CharField(blank=True, help_text="The terms' titles.", max_length=255),
                ),
                ("term_types", models.CharField(blank=True, max_length=100)),
                ("starts_on", models.DateField(blank=True, null=True)),
                ("ends_on", models.DateField(blank=True, null=True)),
                (
                    "teachers",
                    models.CharField(
                        blank=True, help_text="Names, as the SIS gives them.", max_length=255
                    ),
                ),
                ("teacher_emails", models.CharField(blank=True, max_length=255)),
                (
                    "sis_import",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="classes",
                        to="enrollment.sisimport",
                    ),
                ),
            ],
            options={
                "ordering": ["title", "sourced_id"],
            },
        ),
        migrations.CreateModel(
            name="SisStudent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sourced_id", models.CharField(max_length=255)),
                (
                    "identifier",
                    models.CharField(
                        blank=True, help_text="The school's student number.", max_length=100
                    ),
                ),
                ("given_name", models.CharField(max_length=150)),
                ("middle_name", models.CharField(blank=True, max_length=150)),
                ("family_name", models.CharField(max_length=150)),
                ("preferred_given_name", models.CharField(blank=True, max_length=150)),
                ("email", models.CharField(blank=True, max_length=254)),
                (
                    "sis_import",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="students",
                        to="enrollment.sisimport",
                    ),
                ),
            ],
            options={
                "ordering": ["family_name", "given_name", "sourced_id"],
            },
        ),
        migrations.CreateModel(
            name="SisEnrollment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "sis_class",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="enrollments",
                        to="enrollment.sisclass",
                    ),
                ),
                (
                    "sis_student",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="enrollments",
                        to="enrollment.sisstudent",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="SisClassMapping",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("class_sourced_id", models.CharField(max_length=255)),
                ("decided_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "decided_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "high_school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organisations.highschool",
                    ),
                ),
                (
                    "section",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sis_mappings",
                        to="enrollment.section",
                    ),
                ),
            ],
            options={
                "ordering": ["high_school", "class_sourced_id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("section__isnull", False)),
                        fields=["section"],
                        name="sis_mapping_section",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("high_school", "class_sourced_id"), name="sis_class_mapping_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("class_sourced_id", ""), _negated=True),
                        name="sis_class_mapping_has_id",
                    ),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="sisimport",
            index=models.Index(fields=["high_school", "-imported_at"], name="sis_import_school"),
        ),
        migrations.AddConstraint(
            model_name="sisimport",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_current", True), ("teacher__isnull", True)),
                fields=("high_school",),
                name="sis_import_one_current_per_school",
            ),
        ),
        migrations.AddConstraint(
            model_name="sisimport",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_current", True), ("teacher__isnull", False)),
                fields=("high_school", "teacher"),
                name="sis_import_one_current_per_teacher",
            ),
        ),
        migrations.AddConstraint(
            model_name="sisclass",
            constraint=models.UniqueConstraint(
                fields=("sis_import", "sourced_id"), name="sis_class_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="sisclass",
            constraint=models.CheckConstraint(
                condition=models.Q(("sourced_id", ""), _negated=True), name="sis_class_has_id"
            ),
        ),
        migrations.AddConstraint(
            model_name="sisstudent",
            constraint=models.UniqueConstraint(
                fields=("sis_import", "sourced_id"), name="sis_student_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="sisstudent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("given_name", ""), _negated=True),
                    models.Q(("family_name", ""), _negated=True),
                ),
                name="sis_student_has_name",
            ),
        ),
        migrations.AddConstraint(
            model_name="sisenrollment",
            constraint=models.UniqueConstraint(
                fields=("sis_class", "sis_student"), name="sis_enrollment_unique"
            ),
        ),
    ]
