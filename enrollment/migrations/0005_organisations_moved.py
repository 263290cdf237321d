"""Foreign keys now name the organisations app's models; the tables are unchanged
(state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0004_registrar_queue_indexes'),
        ('organisations', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='fee',
                    name='academic_year',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='fees', to='organisations.academicyear'),
                ),
                migrations.AlterField(
                    model_name='fee',
                    name='consortium',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='fees', to='organisations.consortium'),
                ),
                migrations.AlterField(
                    model_name='section',
                    name='academic_year',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sections', to='organisations.academicyear'),
                ),
                migrations.AlterField(
                    model_name='section',
                    name='high_school',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sections', to='organisations.highschool'),
                ),
                migrations.AlterField(
                    model_name='sectionrequest',
                    name='academic_year',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='section_requests', to='organisations.academicyear'),
                ),
                migrations.AlterField(
                    model_name='sectionrequest',
                    name='high_school',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='section_requests', to='organisations.highschool'),
                ),
                migrations.AlterField(
                    model_name='studentprofile',
                    name='high_school',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='students', to='organisations.highschool'),
                ),
            ],
            database_operations=[],
        ),
    ]
