"""Consortia, colleges, districts, high schools, school years, policies and career clusters
move here from the accounts app (label ``consortia``) in state only: their tables keep
their names (``Meta.db_table``), so no row is copied. Their content types follow them,
so the admin history and permissions of existing rows stay attached."""

import django.db.models.deletion
from django.db import migrations, models

OLD_LABEL, NEW_LABEL = "consortia", "organisations"
MODELS = ['academicyear', 'consortium', 'consortiumpolicy', 'college', 'district', 'highschool', 'careercluster']


def move_content_types(apps, schema_editor):
    """Existing content types follow the models, so admin history and permissions stay
    attached (a new database has none yet: they are made after migrating)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=NEW_LABEL, model=model).exists():
            ContentType.objects.filter(app_label=OLD_LABEL, model=model).update(
                app_label=NEW_LABEL
            )


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=NEW_LABEL, model__in=MODELS).update(app_label=OLD_LABEL)


class Migration(migrations.Migration):

    dependencies = [
        ("consortia", "0004_points_grade_at_most_4"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Consortium',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, unique=True)),
                        ('slug', models.SlugField(max_length=60, unique=True)),
                        ('contact_name', models.CharField(blank=True, max_length=200)),
                        ('contact_email', models.EmailField(blank=True, max_length=254)),
                        ('contact_phone', models.CharField(blank=True, max_length=40)),
                        ('website', models.URLField(blank=True)),
                        ('payment_instructions', models.TextField(blank=True, help_text='Shown to students: how and where to pay the annual fee.')),
                        ('show_teacher_names_publicly', models.BooleanField(default=False, help_text='Show teacher names on the public articulation search.')),
                    ],
                    options={
                        'verbose_name_plural': 'consortia',
                        'db_table': 'consortia_consortium',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='AcademicYear',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(help_text='For example 2025-26.', max_length=7, unique=True)),
                        ('start_date', models.DateField()),
                        ('end_date', models.DateField()),
                    ],
                    options={
                        'db_table': 'consortia_academicyear',
                        'ordering': ['-start_date'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('end_date__gt', models.F('start_date'))), name='academic_year_ends_after_start'), models.CheckConstraint(condition=models.Q(('code__regex', '^[0-9]{4}-[0-9]{2}$')), name='academic_year_code_format')],
                    },
                ),
                migrations.CreateModel(
                    name='CareerCluster',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('framework', models.CharField(choices=[('2008', '16 national career clusters'), ('2024', 'Modernized framework (2024)')], default='2008', max_length=4)),
                        ('code', models.CharField(max_length=10)),
                        ('name', models.CharField(max_length=200)),
                        ('is_active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'consortia_careercluster',
                        'ordering': ['framework', 'name'],
                        'constraints': [models.UniqueConstraint(fields=('framework', 'code'), name='cluster_code_unique'), models.UniqueConstraint(fields=('framework', 'name'), name='cluster_name_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='College',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, unique=True)),
                        ('code', models.CharField(max_length=12, unique=True)),
                        ('registrar_email', models.EmailField(blank=True, max_length=254)),
                        ('website', models.URLField(blank=True)),
                        ('consortium', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='colleges', to='organisations.consortium')),
                    ],
                    options={
                        'db_table': 'consortia_college',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='District',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('code', models.CharField(help_text='State district code.', max_length=12, unique=True)),
                        ('consortium', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='districts', to='organisations.consortium')),
                    ],
                    options={
                        'db_table': 'consortia_district',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='HighSchool',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200)),
                        ('code', models.CharField(help_text='State building code.', max_length=12, unique=True)),
                        ('kind', models.CharField(choices=[('high_school', 'High school'), ('skills_center', 'Skills center')], default='high_school', max_length=20)),
                        ('city', models.CharField(blank=True, max_length=100)),
                        ('district', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='high_schools', to='organisations.district')),
                        ('served_districts', models.ManyToManyField(blank=True, help_text='For a skills center: the districts whose students it serves.', related_name='skills_centers', to='organisations.district')),
                    ],
                    options={
                        'db_table': 'consortia_highschool',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ConsortiumPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('registration_opens', models.DateField()),
                        ('registration_closes', models.DateField()),
                        ('payment_deadline', models.DateField()),
                        ('grading_deadline', models.DateField()),
                        ('annual_fee', models.DecimalField(decimal_places=2, default=0, help_text='Per student per school year.', max_digits=7)),
                        ('waiver_reasons', models.TextField(blank=True, default='Free or reduced-price lunch\nFinancial hardship\nFoster youth', help_text='One reason per line.')),
                        ('grade_scale', models.CharField(choices=[('letter', 'Letter (A-F)'), ('points', 'Grade points (0.0-4.0)'), ('percent', 'Percent (0-100)')], default='letter', max_length=10)),
                        ('default_minimum_grade', models.CharField(default='B', max_length=5)),
                        ('school_email_domains', models.TextField(blank=True, help_text='School email domains to warn students about, one per line (k12.wa.us).')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('academic_year', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='policies', to='organisations.academicyear')),
                        ('consortium', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='policies', to='organisations.consortium')),
                    ],
                    options={
                        'verbose_name_plural': 'consortium policies',
                        'db_table': 'consortia_consortiumpolicy',
                        'ordering': ['consortium__name', '-academic_year__start_date'],
                        'constraints': [models.UniqueConstraint(fields=('consortium', 'academic_year'), name='one_policy_per_consortium_year'), models.CheckConstraint(condition=models.Q(('registration_closes__gte', models.F('registration_opens'))), name='policy_registration_window_ordered'), models.CheckConstraint(condition=models.Q(('annual_fee__gte', 0)), name='policy_fee_not_negative'), models.CheckConstraint(condition=models.Q(models.Q(('default_minimum_grade__regex', '^([A-D][+-]?|F)$'), ('grade_scale', 'letter')), models.Q(('default_minimum_grade__regex', '^([0-3]\\.[0-9]{1,2}|4\\.00?)$'), ('grade_scale', 'points')), models.Q(('default_minimum_grade__regex', '^(100|[1-9]?[0-9])$'), ('grade_scale', 'percent')), _connector='OR'), name='policy_minimum_grade_fits_scale')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='district',
                    constraint=models.UniqueConstraint(fields=('consortium', 'name'), name='district_name_unique_in_consortium'),
                ),
                migrations.AddConstraint(
                    model_name='highschool',
                    constraint=models.UniqueConstraint(fields=('district', 'name'), name='high_school_name_unique_in_district'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
