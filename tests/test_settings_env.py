"""Settings come from the environment, once, and refuse unsafe production configurations.

Each case imports the settings in a fresh interpreter with a controlled environment.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "mvp.example.com",
}


def load_settings(env: dict[str, str], expr: str = "{}") -> subprocess.CompletedProcess:
    prefixes = ("DJANGO_", "DATABASE_", "REDIS_", "ENABLE_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    clean.update({"DJANGO_SETTINGS_MODULE": "mvpvalidator.settings"}, **env)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({expr}, default=str))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_embedded_default_needs_no_variables():
    result = load_settings(
        {},
        '{"db": s.DATABASES["default"]["ENGINE"], "cache": s.CACHES["default"]["BACKEND"], "debug": s.DEBUG}',
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "db": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "debug": True,
    }


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    result = load_settings({**PROD, missing: ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_refuses_a_development_secret():
    result = load_settings({**PROD, "DJANGO_SECRET_KEY": "django-insecure-abc"})
    assert result.returncode != 0
    assert "too weak" in result.stderr


def test_production_with_secret_and_hosts_starts():
    result = load_settings(PROD, '{"debug": s.DEBUG, "hosts": s.ALLOWED_HOSTS}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"debug": False, "hosts": ["mvp.example.com"]}


def test_database_url_selects_postgres_with_pool_and_health_checks():
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mvp",
        "DATABASE_POOL_MIN_SIZE": "3",
        "DATABASE_POOL_MAX_SIZE": "17",
    }
    result = load_settings(env, 's.DATABASES["default"]')
    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["OPTIONS"]["pool"]["min_size"] == 3
    assert db["OPTIONS"]["pool"]["max_size"] == 17
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["CONN_MAX_AGE"] == 0


def test_redis_url_selects_django_redis_with_hiredis_and_short_timeouts():
    result = load_settings({"REDIS_URL": "redis://127.0.0.1:6379/3"}, 's.CACHES["default"]')
    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout)
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["OPTIONS"]["PARSER_CLASS"] == "redis.connection._HiredisParser"
    assert cache["OPTIONS"]["SOCKET_TIMEOUT"] <= 1
    assert cache["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] <= 1
    assert cache["KEY_PREFIX"] == "mvp"


def test_empty_values_from_env_example_mean_unset():
    result = load_settings({"DATABASE_URL": "", "REDIS_URL": ""}, 's.DATABASES["default"]["ENGINE"]')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "django.db.backends.sqlite3"


def test_every_variable_of_env_example_left_empty_gives_its_default():
    """A copy of `.env.example` as shipped (every variable empty) starts the platform on its
    defaults, numbers and flags included."""
    names = [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    ]
    result = load_settings(
        dict.fromkeys(names, ""), "[s.DATABASE_POOL_MIN_SIZE, s.UPLOAD_MAX_BYTES, s.KPI_ALERT_AFTER_MINUTES]"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [2, 2 * 1024 * 1024, 15]


def test_env_example_documents_every_variable_the_settings_read():
    settings_source = (ROOT / "mvpvalidator" / "settings.py").read_text()
    read = set(re.findall(r'env(?:_str|\.\w+)\(\s*"([A-Z0-9_]+)"', settings_source))
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented = {}
    for index, line in enumerate(lines):
        match = re.match(r"^#?\s*([A-Z0-9_]+)=", line)
        if match and not line.startswith("# "):
            documented[match.group(1)] = lines[index - 1] if index else ""
    assert read - set(documented) == set(), "variables read by settings but missing in .env.example"
    for name, comment in documented.items():
        assert comment.startswith("# "), f"{name} has no one-line comment above it"
    readme = (ROOT / "README.md").read_text()
    assert {name for name in read if f"`{name}`" not in readme} == set(), "missing from the README table"


@pytest.mark.parametrize(
    "broker",
    [
        "redis://127.0.0.1:6379/3",  # the cache's own URL
        "redis://127.0.0.1:6379/0",  # another database of the same server: evicted alike
        "redis://localhost:6379",  # the same server by another name, the default port
        "redis://:secret@127.0.0.1:6379/5",
    ],
)
def test_the_broker_is_refused_on_the_caches_redis_server(broker):
    result = load_settings({"REDIS_URL": "redis://127.0.0.1:6379/3", "CELERY_BROKER_URL": broker})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "cache's Redis server" in result.stderr


@pytest.mark.parametrize("broker", ["redis://127.0.0.1:6380/0", "redis://10.0.0.7:6379/0", "amqp://guest@127.0.0.1//"])
def test_a_broker_on_another_server_is_accepted(broker):
    result = load_settings({"REDIS_URL": "redis://127.0.0.1:6379/3", "CELERY_BROKER_URL": broker}, "s.JOBS_IN_PROCESS")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) is False


def test_env_example_documents_each_variable_once():
    names = re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE)
    assert sorted({name for name in names if names.count(name) > 1}) == []
