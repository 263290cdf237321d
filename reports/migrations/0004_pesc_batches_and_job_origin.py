"""Transcript reports' PESC format becomes a zip of PESC College Transcript documents
("pesc"; earlier jobs' "xml" is renamed, their stored files keep their names), and each
job records who asked for it (`origin`): a user, the nightly schedule or the
transcript_report command."""

from django.conf import settings
from django.db import migrations, models


def forwards(apps, schema_editor):
    ReportJob = apps.get_model("reports", "ReportJob")
    ReportJob.objects.filter(file_format="xml").update(file_format="pesc")
    ReportJob.objects.filter(nightly_key__isnull=False).update(origin="nightly")


def backwards(apps, schema_editor):
    ReportJob = apps.get_model("reports", "ReportJob")
    ReportJob.objects.filter(file_format="pesc").update(file_format="xml")


class Migration(migrations.Migration):

    dependencies = [
        ('accesslog', '0001_initial'),
        ('organisations', '0001_initial'),
        ('reports', '0003_access_log_moved'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='reportjob',
            name='report_job_format_fits_kind',
        ),
        migrations.RemoveConstraint(
            model_name='reportjob',
            name='report_job_has_requester_or_is_nightly',
        ),
        migrations.AddField(
            model_name='reportjob',
            name='origin',
            field=models.CharField(choices=[('site', 'Asked for on the site'), ('nightly', 'Built every night'), ('command', 'Built by the transcript_report command')], default='site', help_text='Who asked: a user on the site, or SERS itself (nightly, or a command).', max_length=10),
        ),
        migrations.AlterField(
            model_name='reportjob',
            name='file_format',
            field=models.CharField(choices=[('csv', 'CSV'), ('xlsx', 'Excel (XLSX)'), ('pesc', 'PESC College Transcripts (zip of XML documents)')], default='csv', max_length=4),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name='reportjob',
            constraint=models.CheckConstraint(condition=models.Q(('file_format__in', ['csv', 'xlsx']), models.Q(('file_format', 'pesc'), ('kind', 'transcript_credit')), _connector='OR'), name='report_job_format_fits_kind'),
        ),
        migrations.AddConstraint(
            model_name='reportjob',
            constraint=models.CheckConstraint(condition=models.Q(('requested_by__isnull', False), ('nightly_key__isnull', False), ('origin', 'command'), _connector='OR'), name='report_job_has_requester_or_is_sers'),
        ),
        migrations.AddConstraint(
            model_name='reportjob',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('origin', 'command'), _negated=True), models.Q(('nightly_key__isnull', True), ('requested_by__isnull', True)), _connector='OR'), name='report_job_command_is_sers'),
        ),
    ]
