"""Foreign keys now name the organisations app's models; the tables are unchanged
(state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articulations', '0004_points_grade_at_most_4'),
        ('organisations', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='articulation',
                    name='cluster',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='articulations', to='organisations.careercluster'),
                ),
                migrations.AlterField(
                    model_name='articulation',
                    name='college',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='articulations', to='organisations.college'),
                ),
                migrations.AlterField(
                    model_name='articulation',
                    name='consortium',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='articulations', to='organisations.consortium'),
                ),
                migrations.RemoveField(
                    model_name='articulation',
                    name='high_schools',
                ),
                migrations.RemoveField(
                    model_name='articulation',
                    name='valid_years',
                ),
                migrations.AlterField(
                    model_name='collegecourse',
                    name='college',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='courses', to='organisations.college'),
                ),
                migrations.AlterField(
                    model_name='highschoolcourse',
                    name='consortium',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='high_school_courses', to='organisations.consortium'),
                ),
                migrations.AlterField(
                    model_name='rolloverrun',
                    name='consortium',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rollover_runs', to='organisations.consortium'),
                ),
                migrations.AlterField(
                    model_name='rolloverrun',
                    name='from_year',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.academicyear'),
                ),
                migrations.AlterField(
                    model_name='rolloverrun',
                    name='to_year',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.academicyear'),
                ),
                migrations.AddField(
                    model_name='articulation',
                    name='high_schools',
                    field=models.ManyToManyField(help_text='Schools that teach the course.', related_name='articulations', to='organisations.highschool'),
                ),
                migrations.AddField(
                    model_name='articulation',
                    name='valid_years',
                    field=models.ManyToManyField(related_name='articulations', to='organisations.academicyear'),
                ),
            ],
            database_operations=[],
        ),
    ]
