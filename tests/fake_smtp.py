"""A mail relay: a real SMTP server on loopback (enough of RFC 5321 for Django's SMTP backend)
that records what it is sent. It can refuse recipients or answer slowly, so the platform's own
SMTP client code runs against it, failures included."""

import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest


@dataclass
class SMTPRelay:
    host: str = "127.0.0.1"
    port: int = 0
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    delay: float = 0.0  # before each reply to DATA
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def recipients(self) -> list[str]:
        with self.lock:
            return [m["To"] for m in self.messages]


def _handler(relay: SMTPRelay) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        def handle(self) -> None:
            self.reply("220 relay.test ESMTP")
            while raw := self.rfile.readline():
                verb = raw.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                argument = raw.decode("ascii", "replace").strip()[len(verb) :].strip()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 relay.test")
                elif verb == "MAIL":
                    self.reply("250 OK")
                elif verb == "RCPT":
                    address = argument.split(":", 1)[-1].strip().strip("<>").lower()
                    self.reply("550 No such user" if address in relay.refuse else "250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while (line := self.rfile.readline()) not in (b".\r\n", b""):
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    if relay.delay:
                        time.sleep(relay.delay)
                    with relay.lock:
                        relay.messages.append(message_from_bytes(b"".join(lines)))
                    self.reply("250 OK queued")
                elif verb == "RSET" or verb == "NOOP":
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 Command not implemented")

    return Handler


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def smtp_relay(settings: Any) -> Iterator[SMTPRelay]:
    """The relay, and the platform's email settings pointed at it."""
    relay = SMTPRelay()
    server = _Server(("127.0.0.1", 0), _handler(relay))
    relay.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = relay.host, relay.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield relay
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
