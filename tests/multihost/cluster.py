"""SERS on several hosts, on one machine: web processes (gunicorn) and Celery workers
started as separate programs with the production settings, sharing PostgreSQL, Redis and
an S3 bucket and nothing else, and a browser that talks to them over HTTP as if through a
load balancer (one site name, its cookies sent to whichever host the test picks).

The production settings are used as they are (tests/multihost/host_settings.py only
serves the static files from the app folders, to skip collectstatic). The deployment's
Redis keys carry a prefix of their own (SERS_REDIS_PREFIX), so parallel test runs on one
Redis share nothing, and the prefix's keys are deleted at the end.
"""

import http.client
import http.cookies
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent.parent
SITE = "sers.test"  # the name the load balancer answers to
START_TIMEOUT = 120
# A report of N rows takes N / CHUNK_ROWS * CHUNK_DELAY_MS on a worker, and more: long
# enough to kill its worker in the middle, well within the visibility timeout (after which
# Redis would hand the task out again while it still runs) on a busy machine.
CHUNK_ROWS = 4
CHUNK_DELAY_MS = 300
VISIBILITY_TIMEOUT = 30
RESTORE_SECONDS = 2


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        """The redirect's target: a path of the site, or an absolute URL elsewhere."""
        target = self.headers.get("Location", "")
        for prefix in (f"https://{SITE}", f"http://{SITE}"):
            if target.startswith(prefix):
                return target[len(prefix) :] or "/"
        return target


@dataclass
class Browser:
    """One person's browser. Cookies belong to the site, whichever host answered."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, host: str, method: str, path: str, form: dict | None = None) -> Answer:
        headers = {
            "Host": SITE,
            # What the TLS proxy in front of the hosts adds.
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "127.0.0.1",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{SITE}"
            headers["Referer"] = f"https://{SITE}{path}"
        parts = urllib.parse.urlsplit(host)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return answer

    def get(self, host: str, path: str) -> Answer:
        return self.request(host, "GET", path)

    def post(self, host: str, path: str, form: dict, *, form_page: str | None = None) -> Answer:
        """Post a form the way a browser does: the page first, for its CSRF token."""
        page = self.get(host, form_page or path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {form_page or path} ({page.status})"
        return self.request(host, "POST", path, {"csrfmiddlewaretoken": match.group(1), **form})

    def sign_in(self, host: str, email: str, password: str, code=None) -> None:
        """The sign-in form; then the second step with `code()` when it is asked for."""
        answer = self.post(host, "/accounts/login/", {"username": email, "password": password})
        assert answer.status == 302, f"sign-in answered {answer.status}"
        target = answer.location
        if target.startswith("/") and not target.startswith("/accounts/two-step/"):
            target = self.get(host, target).location or target
        if target.startswith("/accounts/two-step/verify/"):
            assert code is not None, "the second step was asked for"
            done = self.post(host, target, {"code": code()})
            assert done.status == 302, f"the second step answered {done.status}"


class Cluster:
    """Web hosts and workers; `web[i]` is a host's base URL."""

    def __init__(self, work: Path, *, database_url: str, redis_url: str, s3: dict[str, str]):
        self.work = work
        self.redis_url = redis_url
        self.prefix = f"sers-hosts-{secrets.token_hex(6)}:"
        self.metrics_token = secrets.token_urlsafe(24)
        self.web: list[str] = []
        self.workers: list[subprocess.Popen | None] = []
        self.processes: list[tuple[subprocess.Popen, Path]] = []
        mail = work / "mail"
        mail.mkdir(parents=True, exist_ok=True)
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("SERS_", "DATABASE_", "CELERY_", "DJANGO_"))
        }
        self.env = {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "tests.multihost.host_settings",
            "SECRET_KEY": secrets.token_urlsafe(48)[:64],  # one for every host
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SERS_REDIS_PREFIX": self.prefix,
            "ALLOWED_HOSTS": SITE,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail),
            "LOG_FORMAT": "plain",
            "SERS_METRICS_TOKEN": self.metrics_token,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_RESTORE_SECONDS": str(RESTORE_SECONDS),
            **s3,
        }
        if os.environ.get("DATABASE_POOLER"):
            self.env["DATABASE_POOLER"] = os.environ["DATABASE_POOLER"]

    # --- processes ------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = self.work / f"{name}.log"
        with log.open("a") as handle:
            process = subprocess.Popen(  # noqa: S603 - the project's own programs
                command,
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self.processes.append((process, log))
        return process

    def _wait(self, process: subprocess.Popen, name: str, ready) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start:\n{self.logs()}")
            time.sleep(0.25)

    def start_web(self) -> str:
        number = len(self.web)
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "sers.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--timeout=90",
            f"--name=sers-web-{number}",
        ]
        process = self._spawn(f"web-{number}", command, self.env)

        def ready() -> bool:
            try:
                return Browser().get(host, "/healthz").status == 200
            except OSError:
                return False

        self._wait(process, f"web host {number}", ready)
        self.web.append(host)
        return host

    def start_worker(self, number: int | None = None) -> subprocess.Popen:
        if number is None:
            number = len(self.workers)
            self.workers.append(None)
        name = f"worker-{number}"
        env = {
            **self.env,
            "SERS_REPORT_CHUNK_SIZE": str(CHUNK_ROWS),
            "SERS_REPORT_CHUNK_DELAY_MS": str(CHUNK_DELAY_MS),
        }
        command = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "sers",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
        process = self._spawn(name, command, env)
        log = self.work / f"{name}.log"
        start = log.stat().st_size
        self._wait(process, name, lambda: " ready." in log.read_text()[start:])
        self.workers[number] = process
        return process

    def kill_worker(self, number: int) -> None:
        """The machine dies: SIGKILL to the worker and its pool, no chance to clean up."""
        process = self.workers[number]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.workers[number] = None

    def worker_log(self, number: int) -> str:
        return (self.work / f"worker-{number}.log").read_text()

    def worker_running(self, job_id: int) -> int | None:
        """The number of the worker that started `job_id` last."""
        found = None
        pattern = f"report job running: job_id={job_id} "
        for number in range(len(self.workers)):
            if pattern in self.worker_log(number):
                found = number
        return found

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} (end) ---\n{path.read_text()[-6000:]}"
            for path in sorted({path for _process, path in self.processes})
        )

    def metric(self, host: str, name: str, **labels) -> float:
        """The sum of a metric's samples with these labels on one web host."""
        parts = urllib.parse.urlsplit(host)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request(
            "GET",
            "/metrics",
            headers={"Host": SITE, "Authorization": f"Bearer {self.metrics_token}"},
        )
        text = connection.getresponse().read().decode()
        connection.close()
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{"):
                continue
            if all(f'{key}="{value}"' in line for key, value in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        for process, _log in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        client = redis.Redis.from_url(self.redis_url)
        try:
            for key in client.scan_iter(match=f"{self.prefix}*", count=500):
                client.delete(key)
        finally:
            client.close()


def free_port() -> int:
    """A free local port (closed again before the host binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
