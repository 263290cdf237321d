"""Injected failures and races, for the tests that multi-row writes are all or nothing
and that simultaneous requests cannot corrupt a record.

A failure is injected by wrapping a function a service calls once per row (or once per
bulk write) with `failing_on_call(n, real)`: it raises InjectedFailure on the Nth call.
Without the service's transaction, what was written before call N would stay.

`race(target, count)` runs target() in `count` threads started together by a barrier.
Each thread has its own database connection (Django's connections are per thread), so on
PostgreSQL the calls really race in the database.
"""

import threading

from django.db import connections


class InjectedFailure(Exception):
    pass


def failing_on_call(n: int, real):
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == n:
            raise InjectedFailure(f"injected failure on call {n}")
        return real(*args, **kwargs)

    return wrapper


def race(target, count: int) -> list:
    """Run target() in `count` threads started together; returns each outcome."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", target())
        except Exception as error:  # every outcome is checked by the test
            outcomes[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a registration hung"
    return outcomes
