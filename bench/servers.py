"""Servers a fault run owns and breaks on purpose: a private PostgreSQL cluster and a private
redis-server, each on its own loopback port and data directory, so the machine's shared
services are never touched. Every process starts in its own session; `stop()` ends its group.

For runs on several hosts: `hosts()` gives network namespaces joined to this one by veth pairs
(or, where the machine allows none, loopback with a port each), `TcpForwarder` reaches a
loopback-only service from them, and `RabbitVhost` is a RabbitMQ virtual host of the run's own.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(proc: subprocess.Popen | None, *, sig: signal.Signals = signal.SIGTERM, wait: float = 5.0) -> None:
    """Signal the process group; SIGKILL it if it is still there after `wait` seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=wait)
    except ProcessLookupError:
        pass


def kill_groups(procs: Sequence[subprocess.Popen | None], *, wait: float = 5.0) -> None:
    """`kill_group` for several at once: SIGTERM to all, then one shared wait (they shut down in
    parallel), SIGKILL to whatever is left."""
    running = [proc for proc in procs if proc is not None and proc.poll() is None]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_group(proc, sig=signal.SIGKILL, wait=wait)


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _answers(port: int, probe: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            if not probe:
                return True
            conn.sendall(probe)
            return conn.recv(16).startswith(expect)
    except OSError:
        return False


@dataclass
class RedisServer:
    """One redis-server, always on the same port across restarts. `persistent`: an append-only
    file synced on every write, as a Redis holding the event buffer runs in production, so a
    stop and a restart lose nothing."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    persistent: bool = False
    # Where it listens besides loopback (the hosts' side of their veth pairs).
    also_on: Sequence[str] = ()

    @property
    def url(self) -> str:
        return self.url_at("127.0.0.1")

    def url_at(self, address: str) -> str:
        return f"redis://{address}:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [
                    "redis-server", "--port", str(self.port), "--bind", " ".join(("127.0.0.1", *self.also_on)),
                    "--save", "", "--dir", str(self.workdir),
                    "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always",
                    # Protected mode refuses every client but loopback's when there is no password;
                    # the other addresses are the hosts' veths, private to this machine.
                    "--protected-mode", "no" if self.also_on else "yes",
                ],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n{tail(self.log)}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}:\n{tail(self.log)}")

    def ping(self) -> bool:
        return _answers(self.port, b"PING\r\n", b"+PONG")

    def kill(self) -> None:
        """A crash: SIGKILL, no goodbye to the clients; connections are refused at once."""
        kill_group(self.proc, sig=signal.SIGKILL)

    def freeze(self) -> None:
        """A hang (a stalled host, a partition): the port still accepts, nothing answers, so
        every call waits its socket timeout. `kill()` or `stop()` end it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # a frozen server cannot act on SIGTERM
                os.killpg(self.proc.pid, signal.SIGCONT)
        kill_group(self.proc)


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live: on PATH, else Debian's /usr/lib/postgresql/<version>/bin
    (the newest)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster (initdb) on its own port, with trust auth on loopback.

    PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` system
    user and its commands run through `runuser`; its directory is a fresh one under the system
    temporary directory, which that user can reach (a pytest tmp_path under root cannot)."""

    port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mvp-pg-")))
    # Where it listens besides loopback, and the client addresses it trusts there (hosts' veths).
    also_on: Sequence[str] = ()
    clients: Sequence[str] = ()

    @property
    def url(self) -> str:
        return self.url_at("127.0.0.1")

    def url_at(self, address: str) -> str:
        return f"postgres://postgres@{address}:{self.port}"

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    @property
    def log(self) -> Path:
        return self.workdir / "postgres.log"

    @staticmethod
    def missing() -> str | None:
        if postgres_bindir() is None:
            return "PostgreSQL's server binaries (initdb, pg_ctl) are not installed"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "running as root needs runuser to start PostgreSQL as its own user"
        return None

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        bindir = postgres_bindir()
        assert bindir is not None, self.missing()
        command = [str(bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, start_new_session=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}\n{tail(self.log)}")
        return result

    def init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        if self.clients:
            with (self.data / "pg_hba.conf").open("a") as hba:
                for client in self.clients:
                    hba.write(f"host all all {client}/32 trust\n")

    def start(self) -> None:
        # fsync off: the cluster is thrown away and the machine does not crash under it; every
        # committed row still survives a fast or immediate stop (synchronous_commit stays on).
        listen = ",".join(("127.0.0.1", *self.also_on))
        options = f"-p {self.port} -c listen_addresses={listen} -k {self.workdir} -c fsync=off -c max_connections=120"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(self.port, b"", b""):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not listen on port {self.port}:\n{tail(self.log)}")
            time.sleep(0.05)

    def stop(self, mode: str = "fast") -> None:
        """`fast`: open sessions are ended and their transactions rolled back; `immediate`: a crash."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- Several hosts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    """Where a group of processes runs: `address` is where its servers listen (reached from this
    namespace), `gateway` the address it reaches this namespace's services at. `netns`: the
    network namespace, or None on loopback."""

    name: str
    address: str
    gateway: str
    netns: str | None = None

    def command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else list(argv)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def hosts(count: int, *, tag: str, namespaces: bool = True) -> Iterator[list[Host]]:
    """`count` hosts: network namespaces, each joined to this one by a veth pair on its own /30
    (10.213.<n>.0), when the machine allows (root, `ip netns`) and `namespaces`; else `count`
    times loopback, where each server then takes a port of its own. Everything made is removed
    on exit."""
    made: list[str] = []  # namespaces; each takes its veth pair with it when deleted
    links: list[str] = []  # the pairs' outer ends, for a pair made but not yet moved
    found: list[Host] = []
    try:
        if not namespaces or os.geteuid() != 0 or not shutil.which("ip"):
            raise OSError("network namespaces not wanted, or no root and iproute2 for them")
        base = os.getpid() % 60 * 4  # one block of /30s per run, so two runs do not collide
        for i in range(count):
            ns, outside, inside = f"{tag}-{i}", f"{tag[:9]}h{i}", f"{tag[:9]}n{i}"
            subnet = f"10.213.{base + i}"
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            links.append(outside)
            _ip("link", "set", inside, "netns", ns)
            _ip("addr", "add", f"{subnet}.1/30", "dev", outside)
            _ip("link", "set", outside, "up")
            _ip("-n", ns, "addr", "add", f"{subnet}.2/30", "dev", inside)
            _ip("-n", ns, "link", "set", inside, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            found.append(Host(name=f"host-{i}", address=f"{subnet}.2", gateway=f"{subnet}.1", netns=ns))
    except (OSError, subprocess.CalledProcessError):
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        for link in links:  # gone with its namespace unless it never moved there
            subprocess.run(["ip", "link", "del", link], check=False, capture_output=True)
        made, found = [], [Host(name=f"host-{i}", address="127.0.0.1", gateway="127.0.0.1") for i in range(count)]
    try:
        yield found
    finally:
        for ns in made:  # the veth pair goes with its namespace
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


class TcpForwarder:
    """Forwards connections to `addresses`:`port` (port chosen here) to `target`: the hosts reach
    a service that listens on loopback only (the machine's RabbitMQ) through their gateway."""

    def __init__(self, target: tuple[str, int], addresses: Sequence[str]) -> None:
        self.target = target
        self.sockets: list[socket.socket] = []
        self.port = 0
        for address in addresses:
            listener = socket.create_server((address, self.port))
            self.port = listener.getsockname()[1]
            self.sockets.append(listener)
        self.closed = threading.Event()
        for listener in self.sockets:
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while not self.closed.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()

    def close(self) -> None:
        self.closed.set()
        for listener in self.sockets:
            listener.close()


@dataclass
class RabbitVhost:
    """A virtual host of its own on the machine's RabbitMQ (127.0.0.1:5672, guest/guest), made
    with `rabbitmqctl` and deleted with everything queued in it."""

    name: str
    port: int = 5672

    @staticmethod
    def missing() -> str | None:
        if not shutil.which("rabbitmqctl"):
            return "rabbitmqctl is not installed (RabbitMQ)"
        if not _answers(5672, b"", b""):
            return "RabbitMQ does not answer on 127.0.0.1:5672"
        return None

    def url_at(self, address: str, port: int | None = None) -> str:
        return f"amqp://guest:guest@{address}:{port or self.port}/{quote(self.name, safe='')}"

    def __enter__(self) -> "RabbitVhost":
        self._ctl("add_vhost", self.name)
        self._ctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")
        return self

    def __exit__(self, *exc: object) -> None:
        self._ctl("delete_vhost", self.name, check=False)

    def queued(self) -> dict[str, int]:
        out = self._ctl("list_queues", "-p", self.name, "--quiet", "--no-table-headers", "name", "messages")
        return {name: int(n) for name, n in (line.split() for line in out.splitlines() if line.strip())}

    @staticmethod
    def _ctl(*args: str, check: bool = True) -> str:
        result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout
