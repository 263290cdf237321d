"""The ceilings benchmark's site (bench/ceilings_site) stays out of production: its URLs
are not reachable from the production URLconf, and its settings import. No timing here:
the benchmark itself is bench/ceilings.py (bench/README.md)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

ROOT = Path(__file__).resolve().parents[2]
BENCH_PATHS = ["/bench/bare", "/bench/write"]


def _callbacks(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_the_bench_views_are_not_reachable_from_the_production_urls(path):
    with pytest.raises(Resolver404):
        resolve(path, urlconf="sers.urls")


def test_no_production_route_leads_to_a_bench_view():
    modules = {
        getattr(cb, "__module__", "") or ""
        for cb in _callbacks(get_resolver("sers.urls").url_patterns)
    }
    assert not [m for m in modules if m.startswith("bench")]


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_the_bench_urls_serve_the_bench_views(path):
    assert resolve(path, urlconf="bench.ceilings_site.urls").func.__module__ == (
        "bench.ceilings_site.views"
    )


def test_the_bench_settings_are_production_plus_the_bench_urls():
    """Imported in a fresh interpreter with a production-like environment (production
    settings refuse to load otherwise); nothing is connected to."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://bench@127.0.0.1:5432/bench",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    code = (
        "import bench.ceilings_site.settings as s, sers.settings.production as p, "
        "bench.ceilings_site.bare_settings as b;"
        "assert s.ROOT_URLCONF == 'bench.ceilings_site.urls', s.ROOT_URLCONF;"
        "assert p.ROOT_URLCONF == 'sers.urls';"
        "assert s.MIDDLEWARE == p.MIDDLEWARE and s.DATABASES == p.DATABASES;"
        "assert b.MIDDLEWARE == [] and b.DATABASES == {} and b.INSTALLED_APPS == []"
    )
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
