"""Django's Redis cache, keeping one client per connection pool.

Django's RedisCacheClient makes a new `redis.Redis` object on every cache call; each one
builds its table of response callbacks (a few hundred entries), which is a visible share
of a signed-in request that does little else (the session read, say). A `redis.Redis` is
safe to share between threads (it takes a connection from its pool per command), so one
per pool is kept instead. The pools, and so the connections, are Django's as before.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
