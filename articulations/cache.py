"""The public catalog's cache: rendered search results, versioned by one cache key.

The public search shows active agreements with their schools, courses, credits, cluster
and college, and a filter form listing every district and school. Those change rarely
(a consortium activates, edits or retires an agreement; an admin renames a school or
changes a consortium's contact or settings) and are read on every search, so the
rendered results are kept in the cache (Redis in production) under a key that holds the
*catalog version*. Any change to what the search
shows replaces the version, so every cached page is left behind at once: the receivers
below see every write of the catalog's models, saves and deletes through the model
signals and bulk writes through sers.bulk (the only way application code writes them in
bulk: tests/bulkguard.py). A cached page also expires after SEARCH_CACHE_SECONDS, a
safety net for writes outside the application (raw SQL in a shell, COPY).

The version is kept and replaced by sers.versions (at once, and again at commit).
"""

import hashlib
import logging

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from organisations.models import (
    AcademicYear,
    CareerCluster,
    College,
    Consortium,
    District,
    HighSchool,
)
from sers import bulk, release, versions

from .models import Articulation, CollegeCourse, HighSchoolCourse

logger = logging.getLogger(__name__)
CATALOG = "catalog"  # the scope of the catalog's version (sers.versions)
VERSION_KEY = versions.version_key(CATALOG)
SEARCH_CACHE_SECONDS = 5 * 60
# Only these parameters change the search page; a URL with any other is not cached (it
# would be a new key for each made-up parameter).
SEARCH_PARAMETERS = frozenset(
    {"q", "year", "district", "high_school", "college", "cluster", "sort", "page"}
)
MAX_QUERY_LENGTH = 500


def catalog_version() -> str:
    return versions.versions([CATALOG])[0]


def catalog_changed(**kwargs) -> None:
    """The public catalog changed: forget every cached search page (now and at commit)."""
    versions.changed([CATALOG])


def search_cache_key(request, *, parts: tuple) -> str | None:
    """The cache key of a search page, or None when the request should not be cached."""
    params = request.GET
    query = params.urlencode()
    if len(query) > MAX_QUERY_LENGTH or not set(params).issubset(SEARCH_PARAMETERS):
        return None
    key_parts = [release.code_version(), query, *map(str, parts)]
    digest = hashlib.sha256("|".join(key_parts).encode()).hexdigest()[:32]
    try:
        version = catalog_version()
    except Exception:  # the cache is down: render without it
        logger.exception("cache unavailable; the search is rendered uncached")
        return None
    return f"articulations:search:{version}:{digest}"


def cache_get(key: str | None):
    if key is None:
        return None
    try:
        return cache.get(key)
    except Exception:
        logger.exception("cache unavailable")
        return None


def cache_set(key: str | None, value) -> None:
    if key is None:
        return
    try:
        cache.set(key, value, SEARCH_CACHE_SECONDS)
    except Exception:
        logger.exception("cache unavailable")


def connect_signals() -> None:
    """Called from ArticulationsConfig.ready(): every model the public search shows."""
    models = (
        Articulation,
        HighSchoolCourse,
        CollegeCourse,
        College,
        Consortium,
        CareerCluster,
        District,
        HighSchool,
        AcademicYear,
    )
    throughs = (
        Articulation.high_schools.through,
        Articulation.college_courses.through,
        Articulation.valid_years.through,
        HighSchool.served_districts.through,
    )
    bulk.watch(*models, *throughs)
    for model in models:
        uid = f"sers.catalog.{model._meta.label_lower}"
        post_save.connect(catalog_changed, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(catalog_changed, sender=model, dispatch_uid=uid + ".delete")
    for through in throughs:
        m2m_changed.connect(
            catalog_changed, sender=through, dispatch_uid=f"sers.catalog.{through._meta.label}"
        )
    for model in (*models, *throughs):
        bulk.rows_written.connect(
            catalog_changed, sender=model, dispatch_uid=f"sers.catalog.bulk.{model._meta.label}"
        )
