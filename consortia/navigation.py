"""The main menu: which pages each role sees. Later pages add their entries here."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .permissions import Access, Capability


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    capability: Capability | None = None  # None: everyone, signed in or not
    signed_in: bool = False


NAV_ENTRIES: list[NavEntry] = [
    NavEntry(_("Home"), "home"),
]


def nav_items(*, access: Access, path: str) -> list[dict]:
    items = []
    for entry in NAV_ENTRIES:
        if entry.signed_in and access.user_id is None:
            continue
        if entry.capability and not access.can(entry.capability):
            continue
        url = reverse(entry.url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": entry.label, "url": url, "active": active})
    return items
