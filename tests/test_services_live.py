"""The production mode on real services: PostgreSQL through the pool, Redis through hiredis."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_runs_through_the_connection_pool():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('application_name')")
        assert cursor.fetchone()[0] == "mvpvalidator"
    assert connection.pool is not None
    assert connection.pool.max_size == settings.DATABASE_POOL_MAX_SIZE
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.redis
def test_redis_cache_round_trip_with_hiredis_parser():
    from redis.connection import _HiredisParser

    cache.set("live:probe", {"a": 1}, timeout=5)
    assert cache.get("live:probe") == {"a": 1}
    client = cache.client.get_client(write=True)
    assert client.connection_pool.connection_kwargs["parser_class"] is _HiredisParser
    assert client.ping() is True
