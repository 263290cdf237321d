from django import template

from organisations.clusters import cluster_name as _cluster_name

from ..tables import status_badge as render_status_badge

register = template.Library()


@register.simple_tag
def status_badge(articulation):
    return render_status_badge(articulation)


@register.filter
def lookup(mapping: dict, key):
    """mapping[key], or an empty list when missing (for `|join`)."""
    return mapping.get(key, []) if mapping else []


@register.filter
def cluster_name(name: str) -> str:
    """A career cluster's name in the reader's language (organisations/clusters.py)."""
    return _cluster_name(name)
