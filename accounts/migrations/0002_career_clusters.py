"""Load the 16 national career clusters (the 2024 framework can be added beside them)."""

from django.db import migrations

NATIONAL_CLUSTERS = [
    ("AG", "Agriculture, Food & Natural Resources"),
    ("AC", "Architecture & Construction"),
    ("AR", "Arts, A/V Technology & Communications"),
    ("BM", "Business Management & Administration"),
    ("ED", "Education & Training"),
    ("FN", "Finance"),
    ("GV", "Government & Public Administration"),
    ("HS", "Health Science"),
    ("HT", "Hospitality & Tourism"),
    ("HU", "Human Services"),
    ("IT", "Information Technology"),
    ("LW", "Law, Public Safety, Corrections & Security"),
    ("MN", "Manufacturing"),
    ("MK", "Marketing"),
    ("ST", "Science, Technology, Engineering & Mathematics"),
    ("TR", "Transportation, Distribution & Logistics"),
]


def load(apps, schema_editor):
    CareerCluster = apps.get_model("consortia", "CareerCluster")
    for code, name in NATIONAL_CLUSTERS:
        CareerCluster.objects.update_or_create(
            framework="2008", code=code, defaults={"name": name, "is_active": True}
        )


def unload(apps, schema_editor):
    CareerCluster = apps.get_model("consortia", "CareerCluster")
    CareerCluster.objects.filter(
        framework="2008", code__in=[c for c, _ in NATIONAL_CLUSTERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("consortia", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
