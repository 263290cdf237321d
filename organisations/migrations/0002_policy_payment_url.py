from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="consortiumpolicy",
            name="payment_url",
            field=models.URLField(
                blank=True,
                help_text=(
                    "The consortium's or college's page where students pay the fee online. "
                    "Students see a link to it under “How to pay”."
                ),
                max_length=500,
            ),
        ),
    ]
