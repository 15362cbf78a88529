"""A fake OpenAI-compatible chat-completions server: a real HTTP server on loopback, so the
real provider client code runs against it. Tests script its replies and read its requests."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "sk-test-secret-0123456789"
MODEL = "gpt-test-mini"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    trickle: float = 0.0  # pause between ten slices of the body, after the headers went out


def chat_reply(content: str) -> Reply:
    envelope = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }
    return Reply(body=json.dumps(envelope).encode())


@dataclass
class FakeOpenAI:
    """Answers each request with the next scripted reply (the last one repeats) and records it."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def record(self, request: dict[str, Any]) -> Reply:
        with self.lock:
            self.requests.append(request)
            return self.replies[min(len(self.requests), len(self.replies)) - 1]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            reply = fake.record(
                {"path": self.path, "authorization": self.headers.get("Authorization"), "json": json.loads(body)}
            )
            # Wakes early at teardown so a slow reply never outlives its test.
            if reply.delay and fake.stopping.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if not reply.trickle:
                    self.wfile.write(reply.body)
                    return
                step = len(reply.body) // 10 + 1
                for start in range(0, len(reply.body), step):
                    if fake.stopping.wait(reply.trickle):
                        return
                    self.wfile.write(reply.body[start : start + step])
            except ConnectionError:
                pass  # the client gave up waiting, which is what a slow-reply test expects

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def openai_server(settings: Any) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    # A short poll interval keeps shutdown (which waits for the next poll) from slowing every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    settings.OPENAI_API_KEY = API_KEY
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.OPENAI_MODEL = MODEL
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    yield fake
    fake.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
