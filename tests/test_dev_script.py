"""`./dev demo` itself: run with stand-ins for Python, uv and manage.py, so the script's own
steps are checked in a second: what it runs, with which environment, and what it prints.
(CI's smoke test runs the real thing: .ci/run.)"""

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Answers the questions `dev` asks its Python (uv's version, the interpreter's path) and
# accepts `uv sync`.
FAKE_PYTHON = """#!/bin/sh
case "$*" in
  "-m uv --version") echo "uv 0.0-test" ;;
  "-c import sys; print(sys.executable)") echo "$0" ;;
esac
exit 0
"""

# The virtualenv's python: records each manage.py command with SERS_BASE_URL, and prints
# what demo_data prints (its progress, then the logins) and what runserver would.
FAKE_VENV_PYTHON = """#!/bin/sh
echo "$* | SERS_BASE_URL=$SERS_BASE_URL | $DJANGO_SETTINGS_MODULE | LOG_LEVEL=$LOG_LEVEL" \\
  >> "$CALLS"
case "$2" in
  demo_data)
    echo "[    0.1s] Building demo data"
    echo "Demo logins (synthetic accounts, demo only):"
    echo "registrar@demo.sers.example  sers-demo-2026" ;;
  runserver) echo "Starting development server at http://$3/" ;;
esac
exit 0
"""


def executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_dev(tmp_path: Path, **env: str) -> tuple[str, list[str]]:
    tmp_path.mkdir(exist_ok=True)
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    executable(tmp_path / ".venv" / "bin" / "python", FAKE_VENV_PYTHON)
    executable(tmp_path / "python3.12", FAKE_PYTHON)
    calls = tmp_path / "calls"
    keep = {"PATH", "HOME", "LANG", "TMPDIR"}
    environment = {k: v for k, v in os.environ.items() if k in keep}
    environment |= {"PYTHON": str(tmp_path / "python3.12"), "CALLS": str(calls), **env}
    result = subprocess.run(  # noqa: S603 (our own script)
        ["bash", str(tmp_path / "dev"), "demo"],  # noqa: S607
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout + result.stderr, calls.read_text().splitlines()


def test_the_demo_prints_the_progress_and_the_logins_once(tmp_path):
    output, calls = run_dev(tmp_path, PORT="8124")
    assert output.count("Building demo data") == 1
    assert output.count("Demo logins (synthetic accounts, demo only):") == 1
    # The logins come last, right above where to open the site.
    assert output.index("Demo logins") < output.index("Open http://localhost:8124/")
    assert [call.split(" | ")[0] for call in calls] == [
        "manage.py migrate --noinput",
        "manage.py demo_data",
        "manage.py runserver 0.0.0.0:8124",
    ]


def test_the_links_in_the_emails_lead_to_the_port_the_demo_listens_on(tmp_path):
    _output, calls = run_dev(tmp_path, PORT="8124")
    assert all("SERS_BASE_URL=http://localhost:8124 | sers.settings.dev" in c for c in calls)
    _output, calls = run_dev(tmp_path / "own", PORT="9000", SERS_BASE_URL="https://demo.example")
    assert all("SERS_BASE_URL=https://demo.example |" in c for c in calls)


def test_setting_up_logs_only_warnings_so_the_logins_stay_in_view(tmp_path):
    """Info lines (sign-in throttling starting, recovery codes replaced) pushed the login
    table up; the server itself logs as configured."""
    _output, calls = run_dev(tmp_path, PORT="8124")
    levels = {call.split(" | ")[0]: call.split(" | ")[3] for call in calls}
    assert levels["manage.py migrate --noinput"] == "LOG_LEVEL=WARNING"
    assert levels["manage.py demo_data"] == "LOG_LEVEL=WARNING"
    assert levels["manage.py runserver 0.0.0.0:8124"] == "LOG_LEVEL="
