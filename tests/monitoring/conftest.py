from collections.abc import Iterator

import pytest
import sentry_sdk

from tests.fake_sentry import FakeSentry, running_fake_sentry


@pytest.fixture
def sentry_ingest() -> Iterator[FakeSentry]:
    """A fake Sentry on loopback; `.dsn` points the SDK at it, `.events()` reads what arrived.

    Whatever the test initialised, the next test starts with Sentry off: the client is closed
    (its queue flushed while the server still listens) and the global scope gets the no-op
    client back. The test runs in its own isolation scope, so the tags and request processors
    it adds leave with it."""
    servers = running_fake_sentry()
    fake = next(servers)
    try:
        with sentry_sdk.isolation_scope():
            yield fake
    finally:
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.get_global_scope().set_client(None)
        servers.close()
