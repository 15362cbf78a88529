"""Servers a fault run owns and breaks on purpose: a private PostgreSQL cluster and a private
redis-server, each on its own loopback port and data directory, so the machine's shared
services are never touched. Every process starts in its own session; `stop()` ends its group.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.workdir / "redis.log"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [
                    "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--dir", str(self.workdir),
                    "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always",
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

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

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

    def start(self) -> None:
        # fsync off: the cluster is thrown away and the machine does not crash under it; every
        # committed row still survives a fast or immediate stop (synchronous_commit stays on).
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.workdir} -c fsync=off -c max_connections=60"
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
