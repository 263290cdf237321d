"""The ceilings benchmark's own site (bench/ceilings.py, issue 17). Never part of SERS.

- `settings`: the production settings with one change, ROOT_URLCONF -> `urls` (the
  project's URLs plus /bench/bare and /bench/write), and the static files collected under
  bench/out/. Served by gunicorn as `sers.wsgi:application`, as production is.
- `bare_settings`, `bare_urls`, `bare_wsgi`: a second Django site with no middleware, no
  installed app and no database, serving one view (`views.bare`): the framework's limit
  on this machine, served by a second gunicorn with the same worker settings.

Production never imports this package: sers.settings point at sers.urls, which does not
include it (tests/scale/test_bench_ceilings.py).
"""
