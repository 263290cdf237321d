"""The code version: a short hash of what renders SERS's pages (Python, templates,
compiled translations, the static files they link to), computed once per process.

Kept pages (enrollment.pagecache, articulations.cache) carry it in their cache keys. During
a rolling deploy, hosts of the old and the new release share one Redis: with it, no host
serves content that the other release's templates or views made. Without it, the content
of before a deploy stayed for up to its expiry (five minutes).
"""

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".html", ".mo", ".js", ".css"}
# Not the code that renders pages: the environment, tests, benchmarks and collected files.
SKIPPED = {".venv", ".git", "tests", "bench", "node_modules", "media", "staticfiles"}


@functools.cache
def code_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(_source_files()):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _source_files():
    for top in ROOT.iterdir():
        if top.name in SKIPPED or top.name.startswith("."):
            continue
        candidates = [top] if top.is_file() else top.rglob("*")
        for path in candidates:
            if path.suffix in SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                yield path
