#!/usr/bin/env python3
"""Page throughput and latency under concurrent clients. Standard library only.

    python bench/load_pages.py http://127.0.0.1:8000 \
        --paths /healthz / /accounts/login/ --concurrency 8 --requests 400 --duration 10 \
        [--email registrar@example.org --password ...]

Each path is measured on its own: N client threads (one keep-alive connection each) send
requests until --requests have been sent or --duration seconds have passed, whichever
comes first. The table shows, per path: requests, errors (anything but 2xx, or no
answer), throughput, p50/p95/p99 latency, and throughput relative to the trivial view
(--trivial, /healthz by default), which measures the server's floor: a page at 0.5 costs
twice as much as the floor.

Only loopback servers are accepted: this is a tool for measuring your own machine.
Exit status: 0 when every request succeeded, 1 when some failed, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import math
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import NoReturn
from urllib.parse import urlencode, urlsplit

MAX_REQUESTS = 1_000_000
MAX_DURATION = 3600.0
MAX_CONCURRENCY = 256


def die(message: str) -> NoReturn:
    print(f"load_pages: {message}", file=sys.stderr)
    raise SystemExit(2)


@dataclass
class Target:
    scheme: str
    host: str
    port: int

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass
class Result:
    path: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, pct: float) -> float:
        """Nearest-rank percentile of the successful requests, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
        return ordered[rank - 1] * 1000


def loopback_target(base_url: str) -> Target:
    """Parse the base URL; refuse anything that does not resolve to loopback only."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        die(f"base URL must be http(s)://host[:port], not {base_url!r}")
    if parts.path not in ("", "/") or parts.query:
        die("give the base URL without a path; use --paths")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        die(f"cannot resolve {parts.hostname}: {error}")
    addresses = {info[4][0].split("%")[0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        die(
            f"refusing {parts.hostname} ({', '.join(sorted(addresses))}): "
            "only loopback servers (127.0.0.1, ::1, localhost) may be load-tested"
        )
    return Target(parts.scheme, parts.hostname, port)


class Cookies:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def update(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.values[name] = morsel.value

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.values.items())


def log_in(target: Target, login_path: str, email: str, password: str, timeout: float) -> str:
    """Sign in through the login form; returns the Cookie header for the session."""
    cookies = Cookies()
    conn = target.connect(timeout)
    try:
        conn.request("GET", login_path, headers={"Host": f"{target.host}:{target.port}"})
        response = conn.getresponse()
        page = response.read().decode("utf-8", "replace")
        cookies.update(response)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or not match:
            die(f"no login form at {login_path} ({response.status})")
        body = urlencode(
            {"csrfmiddlewaretoken": match.group(1), "username": email, "password": password}
        )
        conn.request(
            "POST",
            login_path,
            body=body,
            headers={
                "Host": f"{target.host}:{target.port}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookies.header(),
                "Referer": target.origin + login_path,
                "Origin": target.origin,
            },
        )
        response = conn.getresponse()
        response.read()
        cookies.update(response)
    finally:
        conn.close()
    if response.status != 302 or "sessionid" not in cookies.values:
        die(f"login as {email} failed (HTTP {response.status})")
    return cookies.header()


def measure(
    target: Target,
    path: str,
    *,
    concurrency: int,
    max_requests: int,
    duration: float,
    cookie: str,
    timeout: float,
) -> Result:
    result = Result(path)
    lock = threading.Lock()
    issued = 0
    start = time.perf_counter()
    deadline = start + duration
    headers = {"Host": f"{target.host}:{target.port}", "Accept": "text/html,*/*"}
    if cookie:
        headers["Cookie"] = cookie

    def claim() -> bool:
        nonlocal issued
        with lock:
            if issued >= max_requests or time.perf_counter() >= deadline:
                return False
            issued += 1
            return True

    def client() -> None:
        conn = target.connect(timeout)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        try:
            while claim():
                began = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = target.connect(timeout)
                    status = 0
                took = time.perf_counter() - began
                statuses[status] = statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    latencies.append(took)
                else:
                    errors += 1
        finally:
            conn.close()
            with lock:
                result.latencies.extend(latencies)
                result.errors += errors
                for status, count in statuses.items():
                    result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + timeout + 30)
    result.elapsed = time.perf_counter() - start
    return result


def print_table(results: list[Result], trivial: str, out=sys.stdout) -> None:
    floor = next((r.throughput for r in results if r.path == trivial), 0.0)
    header = ("path", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "vs trivial")
    rows = []
    for r in results:
        ratio = f"{r.throughput / floor:.2f}" if floor else "-"
        rows.append(
            (
                r.path,
                str(r.requests),
                str(r.errors),
                f"{r.throughput:.1f}",
                *(f"{r.percentile(p):.1f}" if r.latencies else "-" for p in (50, 95, 99)),
                ratio,
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]])
    print(line.format(*header), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print(line.format(*row), file=out)
    for r in results:
        bad = {s: c for s, c in sorted(r.statuses.items()) if not 200 <= s < 300}
        if bad:
            shown = ", ".join(f"{'no answer' if s == 0 else s}: {c}" for s, c in bad.items())
            print(f"errors on {r.path}: {shown}", file=out)


def positive(kind, upper):
    def parse(text: str):
        value = kind(text)
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"must be between 0 and {upper}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--paths", nargs="+", default=["/healthz", "/", "/accounts/login/"])
    parser.add_argument("--trivial", default="/healthz", help="the floor the ratio compares to")
    parser.add_argument("--concurrency", "-c", type=positive(int, MAX_CONCURRENCY), default=8)
    parser.add_argument(
        "--requests", "-n", type=positive(int, MAX_REQUESTS), default=500, help="per path"
    )
    parser.add_argument(
        "--duration", "-d", type=positive(float, MAX_DURATION), default=10.0, help="s per path"
    )
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per path")
    parser.add_argument("--timeout", type=positive(float, 300), default=30.0)
    parser.add_argument("--email", help="sign in as this user first (session cookie)")
    parser.add_argument("--password")
    parser.add_argument("--login-path", default="/accounts/login/")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)

    if bool(args.email) != bool(args.password):
        parser.error("--email and --password go together")
    for path in args.paths:
        if not path.startswith("/") or path.startswith("//"):
            parser.error(f"paths must start with a single '/': {path!r}")

    target = loopback_target(args.base_url)
    cookie = ""
    if args.email:
        cookie = log_in(target, args.login_path, args.email, args.password, args.timeout)
        print(f"signed in as {args.email}")

    print(
        f"{target.origin}: {args.concurrency} clients, up to {args.requests} requests "
        f"or {args.duration:g}s per path"
    )
    results = []
    for path in args.paths:
        if args.warmup > 0:
            measure(
                target,
                path,
                concurrency=min(args.concurrency, args.warmup),
                max_requests=args.warmup,
                duration=args.duration,
                cookie=cookie,
                timeout=args.timeout,
            )
        results.append(
            measure(
                target,
                path,
                concurrency=args.concurrency,
                max_requests=args.requests,
                duration=args.duration,
                cookie=cookie,
                timeout=args.timeout,
            )
        )
    print()
    print_table(results, args.trivial)

    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "base_url": target.origin,
                    "concurrency": args.concurrency,
                    "signed_in_as": args.email,
                    "results": [
                        {
                            "path": r.path,
                            "requests": r.requests,
                            "errors": r.errors,
                            "statuses": r.statuses,
                            "req_per_s": round(r.throughput, 2),
                            **{
                                f"p{pct}_ms": round(r.percentile(pct), 2) if r.latencies else None
                                for pct in (50, 95, 99)
                            },
                        }
                        for r in results
                    ],
                },
                out,
                indent=2,
            )
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
