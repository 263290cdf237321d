from django import template

from ..tables import status_badge as render_status_badge

register = template.Library()


@register.simple_tag
def status_badge(articulation):
    return render_status_badge(articulation)


@register.filter
def lookup(mapping: dict, key):
    """mapping[key], or an empty list when missing (for `|join`)."""
    return mapping.get(key, []) if mapping else []
