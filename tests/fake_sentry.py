"""A fake Sentry ingest: a real HTTP server on loopback that accepts what the real SDK transport
sends (`POST /api/<project>/envelope/`, and the legacy `/store/`), so tests read back the
events exactly as they would have left the process.

Envelope format: https://develop.sentry.dev/sdk/data-model/envelopes/
"""

import gzip
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

try:
    import brotli  # type: ignore[import-not-found]
except ImportError:  # the SDK falls back to gzip by itself when brotli is missing
    brotli = None

T = TypeVar("T")

PUBLIC_KEY = "publickey"
PROJECT_ID = "1"
_INGEST_PATH = re.compile(r"^/api/(?P<project>\d+)/(?P<kind>envelope|store)/$")


@dataclass
class EnvelopeItem:
    type: str
    headers: dict[str, Any]
    payload: bytes
    envelope_headers: dict[str, Any] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.payload)


class EnvelopeError(ValueError):
    pass


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        if brotli is None:
            raise EnvelopeError("brotli body but the brotli module is not installed")
        return brotli.decompress(body)
    if encoding == "identity":
        return body
    raise EnvelopeError(f"unsupported Content-Encoding {encoding!r}")


def parse_envelope(data: bytes) -> list[EnvelopeItem]:
    """Split an envelope: a header line, then per item a header line and its payload (of the
    item header's `length` in bytes, or up to the next newline when it has none)."""
    header_line, _, rest = data.partition(b"\n")
    envelope_headers = json.loads(header_line)
    items: list[EnvelopeItem] = []
    pos = 0
    while pos < len(rest):
        end = rest.find(b"\n", pos)
        line = rest[pos:] if end == -1 else rest[pos:end]
        pos = len(rest) if end == -1 else end + 1
        if not line.strip():
            continue
        item_headers = json.loads(line)
        length = item_headers.get("length")
        if length is not None:
            payload = rest[pos : pos + length]
            if len(payload) != length:
                raise EnvelopeError(f"item says {length} bytes, {len(payload)} left")
            pos += length
            if rest[pos : pos + 1] == b"\n":
                pos += 1
        else:
            end = rest.find(b"\n", pos)
            payload = rest[pos:] if end == -1 else rest[pos:end]
            pos = len(rest) if end == -1 else end + 1
        items.append(EnvelopeItem(item_headers.get("type", ""), item_headers, payload, envelope_headers))
    return items


@dataclass
class FakeSentry:
    port: int = 0
    items: list[EnvelopeItem] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def dsn(self) -> str:
        return f"http://{PUBLIC_KEY}@127.0.0.1:{self.port}/{PROJECT_ID}"

    def receive(self, request: dict[str, Any], items: list[EnvelopeItem]) -> None:
        with self.changed:
            self.requests.append(request)
            self.items.extend(items)
            self.changed.notify_all()

    def of_type(self, item_type: str) -> list[dict[str, Any]]:
        with self.changed:
            return [item.json for item in self.items if item.type == item_type]

    def events(self) -> list[dict[str, Any]]:
        return self.of_type("event")

    def transactions(self) -> list[dict[str, Any]]:
        return self.of_type("transaction")

    def wait_for(self, predicate: Callable[["FakeSentry"], T], timeout: float = 5.0) -> T:
        """The first truthy value of `predicate(self)`, re-checked as items arrive."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                result = predicate(self)
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fake Sentry got no matching item in {timeout}s; got {self.items!r}")
                self.changed.wait(remaining)


def _handler(fake: FakeSentry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            match = _INGEST_PATH.match(self.path.split("?", 1)[0])
            if match is None:
                self._reply(404, {"detail": "not an ingest endpoint"})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                data = decode_body(body, self.headers.get("Content-Encoding"))
                if match["kind"] == "store":
                    event = json.loads(data)
                    items = [EnvelopeItem(event.get("type", "event"), {"type": "event"}, data)]
                else:
                    items = parse_envelope(data)
            except (EnvelopeError, ValueError, OSError) as exc:
                self._reply(400, {"detail": str(exc)})
                return
            request = {"path": self.path, "project": match["project"], "auth": self.headers.get("X-Sentry-Auth")}
            fake.receive(request, items)
            self._reply(200, {"id": items[0].envelope_headers.get("event_id", "") if items else ""})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def running_fake_sentry() -> Iterator[FakeSentry]:
    """Start the server in a thread for as long as the generator is suspended."""
    fake = FakeSentry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
