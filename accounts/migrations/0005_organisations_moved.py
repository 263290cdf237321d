"""The organisation models left for the organisations app and role memberships point
there; the tables are unchanged (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articulations', '0005_organisations_moved'),
        ('consortia', '0004_points_grade_at_most_4'),
        ('enrollment', '0005_organisations_moved'),
        ('organisations', '0001_initial'),
        ('reports', '0003_access_log_moved'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name='academicyear',
                    name='academic_year_ends_after_start',
                ),
                migrations.RemoveConstraint(
                    model_name='academicyear',
                    name='academic_year_code_format',
                ),
                migrations.RemoveConstraint(
                    model_name='careercluster',
                    name='cluster_code_unique',
                ),
                migrations.RemoveConstraint(
                    model_name='careercluster',
                    name='cluster_name_unique',
                ),
                migrations.DeleteModel(
                    name='CareerCluster',
                ),
                migrations.RemoveField(
                    model_name='college',
                    name='consortium',
                ),
                migrations.AlterField(
                    model_name='rolemembership',
                    name='college',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='organisations.college'),
                ),
                migrations.AlterField(
                    model_name='rolemembership',
                    name='consortium',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='organisations.consortium'),
                ),
                migrations.RemoveConstraint(
                    model_name='consortiumpolicy',
                    name='one_policy_per_consortium_year',
                ),
                migrations.RemoveConstraint(
                    model_name='consortiumpolicy',
                    name='policy_registration_window_ordered',
                ),
                migrations.RemoveConstraint(
                    model_name='consortiumpolicy',
                    name='policy_fee_not_negative',
                ),
                migrations.RemoveConstraint(
                    model_name='consortiumpolicy',
                    name='policy_minimum_grade_fits_scale',
                ),
                migrations.RemoveConstraint(
                    model_name='district',
                    name='district_name_unique_in_consortium',
                ),
                migrations.AlterField(
                    model_name='rolemembership',
                    name='district',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='organisations.district'),
                ),
                migrations.RemoveConstraint(
                    model_name='highschool',
                    name='high_school_name_unique_in_district',
                ),
                migrations.AlterField(
                    model_name='rolemembership',
                    name='high_school',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='organisations.highschool'),
                ),
                migrations.DeleteModel(
                    name='College',
                ),
                migrations.RemoveField(
                    model_name='consortiumpolicy',
                    name='academic_year',
                ),
                migrations.RemoveField(
                    model_name='consortiumpolicy',
                    name='consortium',
                ),
                migrations.RemoveField(
                    model_name='district',
                    name='consortium',
                ),
                migrations.RemoveField(
                    model_name='highschool',
                    name='district',
                ),
                migrations.RemoveField(
                    model_name='highschool',
                    name='served_districts',
                ),
                migrations.DeleteModel(
                    name='AcademicYear',
                ),
                migrations.DeleteModel(
                    name='ConsortiumPolicy',
                ),
                migrations.DeleteModel(
                    name='Consortium',
                ),
                migrations.DeleteModel(
                    name='District',
                ),
                migrations.DeleteModel(
                    name='HighSchool',
                ),
            ],
            database_operations=[],
        ),
    ]
