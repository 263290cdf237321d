"""sers.redis_cache: Django's Redis cache with one client per connection pool."""

import os
import threading

import pytest

from sers.redis_cache import RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache():
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "sers-test-redis-cache"})
    yield cache
    cache.delete_many(["one", "two", "counter"])


def test_every_call_uses_the_same_client_and_pool(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client
    assert client.connection_pool is redis_cache._cache._get_connection_pool(write=False)


def test_it_behaves_as_djangos_cache(redis_cache):
    redis_cache.set("one", {"a": 1}, 30)
    assert redis_cache.get("one") == {"a": 1}
    assert redis_cache.add("one", "other") is False
    assert redis_cache.get_many(["one", "two"]) == {"one": {"a": 1}}
    redis_cache.set("counter", 1)
    assert redis_cache.incr("counter") == 2
    redis_cache.delete("one")
    assert redis_cache.get("one") is None


def test_threads_share_the_client_safely(redis_cache):
    errors = []

    def work(n):
        try:
            for i in range(50):
                redis_cache.set(f"t{n}", i, 30)
                assert redis_cache.get(f"t{n}") == i
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    redis_cache.delete_many([f"t{n}" for n in range(8)])
    assert errors == []
