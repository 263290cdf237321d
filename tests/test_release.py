"""sers.release: the code version in the page caches' keys."""

import re

import pytest
from django.urls import reverse

from sers import release


def version_of(tmp_path, monkeypatch) -> str:
    monkeypatch.setattr(release, "ROOT", tmp_path)
    release.code_version.cache_clear()
    try:
        return release.code_version()
    finally:
        release.code_version.cache_clear()


def test_the_version_follows_templates_code_and_translations_not_tests(tmp_path, monkeypatch):
    (tmp_path / "app" / "templates").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    template = tmp_path / "app" / "templates" / "page.html"
    template.write_text("<h1>Credits</h1>")
    (tmp_path / "app" / "views.py").write_text("x = 1\n")
    first = version_of(tmp_path, monkeypatch)
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    (tmp_path / "tests" / "test_page.py").write_text("assert True\n")
    (tmp_path / "app" / "notes.txt").write_text("not code")
    assert version_of(tmp_path, monkeypatch) == first
    template.write_text("<h1>My credits</h1>")
    assert version_of(tmp_path, monkeypatch) != first


def test_this_checkout_has_a_version():
    assert re.fullmatch(r"[0-9a-f]{12}", release.code_version())


@pytest.mark.django_db
def test_a_kept_page_is_not_served_by_another_release(client, monkeypatch):
    """The search page kept by one release is built again by the next one."""
    from articulations import cache as catalog_cache
    from articulations.views import public

    keys = []
    real = catalog_cache.search_cache_key

    def recording(request, *, parts):
        key = real(request, parts=parts)
        keys.append(key)
        return key

    monkeypatch.setattr(public, "search_cache_key", recording)
    url = reverse("articulations:search")
    client.get(url)
    monkeypatch.setattr(release, "code_version", lambda: "0123456789ab")
    client.get(url)
    assert len(keys) == 2
    assert keys[0] != keys[1]
