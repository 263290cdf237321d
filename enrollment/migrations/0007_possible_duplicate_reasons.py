"""A likely duplicate pair keeps why it was found (its reasons, in MatchReason codes) and
the weight of that evidence; the statewide duplicate check is a source of pairs."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0006_sis_class_lists"),
    ]

    operations = [
        migrations.AddField(
            model_name="possibleduplicate",
            name="reasons",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="possibleduplicate",
            name="score",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="possibleduplicate",
            name="source",
            field=models.CharField(
                choices=[
                    ("sign_up", "Sign-up"),
                    ("identity_change", "Legal name or birth date correction"),
                    ("staff_check", "Duplicate check by consortium staff"),
                    ("statewide", "Statewide duplicate check"),
                ],
                max_length=20,
            ),
        ),
    ]
