"""Background threads for work kept off the request path (alert delivery, EXPLAIN capture)."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor


class ProcessExecutor:
    """A thread pool per process, created on first use. A forked gunicorn worker inherits the
    parent's pool object but none of its threads, so a new pid gets a new pool."""

    def __init__(self, *, workers: int, name: str) -> None:
        self.workers = workers
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
                self._pid = os.getpid()
            return self._pool

    def drain(self) -> None:
        """Wait for the submitted work to finish; the next `get()` starts a fresh pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=False)
