"""What the broker says about the queue: reachable or not, and how many messages wait in the
default queue. Asked by the health check, on a connection of its own with a short timeout, so a
broker that is down or hanging costs the check at most `timeout` seconds."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from kombu.connection import Connection

from mvpvalidator.celery import app


@dataclass(frozen=True)
class BrokerProbe:
    reachable: bool
    transport: str
    queue: str
    # Messages waiting in the default queue (ready, not yet taken by a worker); None when unknown.
    depth: int | None = None
    error: str = ""


def broker_probe(*, timeout: float) -> BrokerProbe:
    """Connect to CELERY_BROKER_URL and read the default queue's depth: RabbitMQ answers a
    passive queue declare with its message count; on Redis the queue is a list (LLEN)."""
    queue = app.conf.task_default_queue
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    # kombu is untyped.
    connection: Any = Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options)  # type: ignore[no-untyped-call]
    transport = connection.transport_cls if isinstance(connection.transport_cls, str) else "amqp"
    try:
        with connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            transport = connection.transport.driver_type
            channel = connection.default_channel
            depth = int(channel.client.llen(queue)) if transport == "redis" else _amqp_depth(channel, queue)
    except Exception as exc:  # noqa: BLE001 - any failure to connect or ask is "unreachable", with its reason
        return BrokerProbe(
            reachable=False, transport=transport, queue=queue, error=f"{type(exc).__name__}: {exc}"[:200]
        )
    return BrokerProbe(reachable=True, transport=transport, queue=queue, depth=depth)


def _amqp_depth(channel: Any, queue: str) -> int | None:
    from amqp.exceptions import NotFound  # type: ignore[import-untyped]

    try:
        _name, messages, _consumers = channel.queue_declare(queue=queue, passive=True)
    except NotFound:
        # No worker has declared the queue yet: nothing can be waiting in it. (The channel is
        # closed by the refusal; the connection is closed on the way out.)
        return 0
    return int(messages)
