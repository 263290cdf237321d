"""The student-record access log moves here from the reports app in state only: its
tables keep their names (``Meta.db_table``), so no row is copied. Its content types
follow it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

OLD_LABEL, NEW_LABEL = "reports", "accesslog"
MODELS = ['accesslogentry', 'accesslogstudent']


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
        ('enrollment', '0004_registrar_queue_indexes'),
        ('reports', '0002_report_jobs'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AccessLogEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(blank=True, help_text='The role acted under.', max_length=30)),
                        ('action', models.CharField(choices=[('view', 'Viewed'), ('export', 'Exported'), ('download', 'Downloaded'), ('change', 'Changed'), ('reveal', 'Revealed a hidden field')], max_length=10)),
                        ('what', models.CharField(help_text='The page, export or field concerned.', max_length=200)),
                        ('student_count', models.PositiveIntegerField(default=0)),
                        ('ip_address', models.GenericIPAddressField(blank=True, null=True)),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'student-record access',
                        'verbose_name_plural': 'student-record access log',
                        'db_table': 'reports_accesslogentry',
                        'ordering': ['-at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='AccessLogStudent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='students', to='accesslog.accesslogentry')),
                        ('student', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='access_log', to='enrollment.studentprofile')),
                    ],
                    options={
                        'db_table': 'reports_accesslogstudent',
                    },
                ),
                migrations.AddIndex(
                    model_name='accesslogentry',
                    index=models.Index(fields=['actor', 'at'], name='reports_acc_actor_i_fe362b_idx'),
                ),
                migrations.AddIndex(
                    model_name='accesslogstudent',
                    index=models.Index(fields=['student', 'entry'], name='reports_acc_student_74570c_idx'),
                ),
                migrations.AddConstraint(
                    model_name='accesslogstudent',
                    constraint=models.UniqueConstraint(fields=('entry', 'student'), name='access_log_student_unique'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
