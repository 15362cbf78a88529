"""gunicorn.conf.py: the values it derives from the environment, as gunicorn validates them, and
the trusted-proxy rule it shares with the platform, seen through a real gunicorn."""

import os
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from gunicorn.config import Config

from mvpvalidator.networks import parse_networks

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"
START_SECONDS = 30.0


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    """The file's values (read with `env` set), given to gunicorn's own Config, whose validators
    run on each (an address list gunicorn would refuse fails here)."""
    for name in ("WEB_CONCURRENCY", "PORT", "TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values: dict[str, Any] = runpy.run_path(str(CONF))
    config = Config()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_workers_follow_the_cpus_unless_web_concurrency_says(monkeypatch):
    assert load(monkeypatch).workers == 2 * len(os.sched_getaffinity(0)) + 1
    assert load(monkeypatch, WEB_CONCURRENCY="3").workers == 3


def test_bind_follows_port(monkeypatch):
    assert load(monkeypatch).bind == ["0.0.0.0:8000"]
    assert load(monkeypatch, PORT="9123").bind == ["0.0.0.0:9123"]


def test_forwarded_headers_are_trusted_from_the_platforms_trusted_proxies_only(monkeypatch):
    # gunicorn's own default trusts 127.0.0.1; the platform trusts nobody until told.
    assert load(monkeypatch).forwarded_allow_ips == []
    proxies = "10.0.0.1/8, 192.0.2.7,2001:db8::/32"
    config = load(monkeypatch, TRUSTED_PROXIES=proxies)
    # Host bits written in a network (10.0.0.1/8) are read as the settings read them.
    assert config.forwarded_allow_ips == [str(n) for n in parse_networks(proxies.split(","))]
    assert config.forwarded_allow_ips == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]


def test_recycling_timeouts_preload_and_request_id_in_the_access_log(monkeypatch):
    config = load(monkeypatch)
    assert config.max_requests > 0 and 0 < config.max_requests_jitter < config.max_requests
    assert config.timeout == 30 and config.graceful_timeout == 30
    assert config.preload_app and config.control_socket_disable
    assert "%({x-request-id}o)s" in config.access_log_format


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(tmp_path: Path, **env: str) -> Iterator[str]:
    """gunicorn from the configuration file, one worker, production settings on a SQLite file."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    clean.pop("TRUSTED_PROXIES", None)
    full_env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "mvpvalidator.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "WEB_CONCURRENCY": "1",
        "PORT": str(port),
        **env,
    }
    log = tmp_path / f"gunicorn-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONF), "mvpvalidator.wsgi"],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/monitoring/live", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _secure(base: str) -> bool:
    """Whether the platform took the request as HTTPS: Django adds HSTS to secure responses only."""
    request = urllib.request.Request(f"{base}/api/monitoring/live", headers={"X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers.get("Strict-Transport-Security") is not None


def test_a_scheme_header_counts_only_from_a_trusted_proxy(tmp_path):
    """The client (loopback) sends X-Forwarded-Proto: https. Without TRUSTED_PROXIES gunicorn
    ignores it, as the platform ignores X-Forwarded-For; with loopback trusted, the request is
    HTTPS to Django (no DJANGO_BEHIND_TLS_PROXY involved: gunicorn sets the scheme)."""
    with gunicorn(tmp_path) as base:
        assert not _secure(base)
    with gunicorn(tmp_path, TRUSTED_PROXIES="127.0.0.1") as base:
        assert _secure(base)
