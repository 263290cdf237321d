"""The access log left for the accesslog app and foreign keys now name the
organisations app's models; the tables are unchanged (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accesslog', '0001_initial'),
        ('organisations', '0001_initial'),
        ('reports', '0002_report_jobs'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='accesslogentry',
                    name='reports_acc_actor_i_fe362b_idx',
                ),
                migrations.AlterField(
                    model_name='reportjob',
                    name='export_log_entry',
                    field=models.ForeignKey(blank=True, help_text='The access-log entry listing the students in the file.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accesslog.accesslogentry'),
                ),
                migrations.RemoveIndex(
                    model_name='accesslogstudent',
                    name='reports_acc_student_74570c_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='accesslogstudent',
                    name='access_log_student_unique',
                ),
                migrations.AlterField(
                    model_name='reportjob',
                    name='academic_year',
                    field=models.ForeignKey(blank=True, help_text='Empty: every school year.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='report_jobs', to='organisations.academicyear'),
                ),
                migrations.AlterField(
                    model_name='reportjob',
                    name='college',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='report_jobs', to='organisations.college'),
                ),
                migrations.RemoveField(
                    model_name='accesslogstudent',
                    name='entry',
                ),
                migrations.RemoveField(
                    model_name='accesslogstudent',
                    name='student',
                ),
                migrations.DeleteModel(
                    name='AccessLogEntry',
                ),
                migrations.DeleteModel(
                    name='AccessLogStudent',
                ),
            ],
            database_operations=[],
        ),
    ]
