"""The names of the 16 national career clusters (loaded by accounts/migrations/
0002_career_clusters.py) in the reader's language. They are SERS's own reference data,
not text a consortium typed, so a Spanish reader reads them in Spanish; any other cluster
keeps the name it was given. Every form and filter that offers clusters uses ClusterField:
their names in the reader's language and order."""

import unicodedata

from django import forms
from django.forms.models import ModelChoiceIterator
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


def _sort_key(text: str) -> str:
    """Accents aside, as a reader's dictionary sorts: "Árbol" among the A's."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class _ClustersInReadersOrder(ModelChoiceIterator):
    """The clusters sorted by their names in the reader's language, not the stored ones."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        choices = [self.choice(obj) for obj in self.queryset]
        yield from sorted(choices, key=lambda choice: _sort_key(str(choice[1])))


class ClusterField(forms.ModelChoiceField):
    iterator = _ClustersInReadersOrder

    def label_from_instance(self, obj) -> str:
        return cluster_name(obj.name)
