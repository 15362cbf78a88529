"""Which real services this test run has, and what to do when one is missing.

A test that needs PostgreSQL, Redis or RabbitMQ is skipped with a reason locally when the service is
not configured or not reachable, and fails under CI=true, where all three must be present.
"""

import os
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def postgres_missing() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL does not point at PostgreSQL"
    if not reachable(settings.DATABASE_URL, 5432):
        return "PostgreSQL at DATABASE_URL is not reachable"
    return None


def redis_missing() -> str | None:
    if not settings.ENABLE_REDIS_CACHE:
        return "REDIS_URL is not set"
    if not reachable(settings.REDIS_URL, 6379):
        return "Redis at REDIS_URL is not reachable"
    return None


DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def rabbitmq_url() -> str:
    """The RabbitMQ the Celery tests use: CELERY_BROKER_URL when it is an amqp:// one."""
    url = settings.CELERY_BROKER_URL
    return url if url.startswith(("amqp://", "pyamqp://")) else DEFAULT_RABBITMQ_URL


def rabbitmq_missing() -> str | None:
    if not reachable(rabbitmq_url(), 5672):
        return f"RabbitMQ at {urlsplit(rabbitmq_url()).netloc.rpartition('@')[2]} is not reachable"
    return None


def require(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but a required service is missing: {reason}", pytrace=False)
    pytest.skip(f"{reason} (runs in CI, where the service is required)")
