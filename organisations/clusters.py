"""The names of the 16 national career clusters (loaded by accounts/migrations/
0002_career_clusters.py) in the reader's language. They are SERS's own reference data,
not text a consortium typed, so a Spanish reader reads them in Spanish; any other cluster
keeps the name it was given."""

from django.utils.translation import gettext, gettext_noop

NATIONAL_CLUSTER_NAMES = frozenset(
    {
        gettext_noop("Agriculture, Food & Natural Resources"),
        gettext_noop("Architecture & Construction"),
        gettext_noop("Arts, A/V Technology & Communications"),
        gettext_noop("Business Management & Administration"),
        gettext_noop("Education & Training"),
        gettext_noop("Finance"),
        gettext_noop("Government & Public Administration"),
        gettext_noop("Health Science"),
        gettext_noop("Hospitality & Tourism"),
        gettext_noop("Human Services"),
        gettext_noop("Information Technology"),
        gettext_noop("Law, Public Safety, Corrections & Security"),
        gettext_noop("Manufacturing"),
        gettext_noop("Marketing"),
        gettext_noop("Science, Technology, Engineering & Mathematics"),
        gettext_noop("Transportation, Distribution & Logistics"),
    }
)


def cluster_name(name: str) -> str:
    """A career cluster's name in the active language."""
    return gettext(name) if name in NATIONAL_CLUSTER_NAMES else name
