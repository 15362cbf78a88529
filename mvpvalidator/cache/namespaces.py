"""Namespace generations: reading them (one round trip for many, or once per `read_together`
block) and bumping them (at once, or `bump_soon`: with this process's next round trip). See the
package's docstring for how keys embed them."""

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from mvpvalidator import background
from mvpvalidator.cache.backend import CacheUnavailable, call, is_shared, on_recovery, raw_key, redis_client

# Generations are seeded from the clock (microseconds), so a generation lost with its key
# (eviction, a Redis restart) comes back larger than any before it: old keys stay unreachable.
GENERATION_PREFIX = "gen:"
_pending_bumps: set[str] = set()
_pending_lock = threading.Lock()


# --- Namespaces and generations ---------------------------------------------------------------


def _seed() -> int:
    return time.time_ns() // 1000


# Generations this process read lately: {key: (monotonic time read, generation)}, for readers
# that accept a value up to `max_age` seconds behind another process's write (the public pages).
_recent_generations: dict[str, tuple[float, int]] = {}
RECENT_GENERATIONS_KEPT = 10_000


def generations(names: Iterable[str], *, max_age: float = 0.0) -> list[int]:
    """Current generation of each namespace, in one round trip (plus one per namespace never seen).

    With `max_age`, generations this process read less than that many seconds ago are used
    without asking Redis: a write by another process shows up to `max_age` late (a write by
    this one at once, since `bump` forgets what it bumps).

    Inside `read_together`, each generation is read once for the block, together with the
    names announced there (and fresh: `max_age` is not used)."""
    keys = [GENERATION_PREFIX + n for n in names]
    batch = _read_together.get()
    if batch is not None:
        unread = [k for k in dict.fromkeys([*keys, *batch.announced]) if k not in batch.read]
        if any(k not in batch.read for k in keys):
            batch.read.update(zip(unread, _read_generations(unread), strict=True))
        return [batch.read[k] for k in keys]
    if max_age > 0:
        now = time.monotonic()
        recent = [_recent_generations.get(k) for k in keys]
        if all(r is not None and now - r[0] < max_age for r in recent):
            return [r[1] for r in recent if r is not None]
    found = _read_generations(keys)
    if max_age > 0:
        if len(_recent_generations) > RECENT_GENERATIONS_KEPT:
            _recent_generations.clear()
        read_at = time.monotonic()
        for key, generation in zip(keys, found, strict=True):
            _recent_generations[key] = (read_at, generation)
    return found


def _read_generations(keys: list[str]) -> list[int]:
    _send_deferred_bumps()  # this process's own writes are read back as written
    found = call(cache.get_many, keys)
    for key in keys:
        if key not in found:
            seed = _seed()
            found[key] = seed if call(cache.add, key, seed, None) else (call(cache.get, key) or seed)
    return [int(found[k]) for k in keys]


@dataclass
class _Batch:
    announced: list[str]
    read: dict[str, int]


_read_together: ContextVar[_Batch | None] = ContextVar("read_together", default=None)


@contextlib.contextmanager
def read_together(names: Iterable[str]) -> Iterator[None]:
    """Within the block (one request), the first generations read also reads the namespaces
    `names`, and no generation is read twice: a request whose lookups need several namespaces,
    known before the first lookup, pays one round trip for all of them (the API's project detail:
    its owner's identity and the project's detail). A bump inside the block is seen at once:
    `bump` drops what it bumps from the block's reads."""
    batch = _Batch(announced=[GENERATION_PREFIX + n for n in names], read={})
    token = _read_together.set(batch)
    try:
        yield
    finally:
        _read_together.reset(token)


def forget_recent_generations() -> None:
    _recent_generations.clear()


def _forget_read(names: Iterable[str]) -> list[str]:
    """Forget the generations of `names` this process holds (read lately, or read in this
    `read_together` block), so that its next read asks Redis; their keys."""
    keys = [GENERATION_PREFIX + name for name in names]
    batch = _read_together.get()
    for key in keys:
        _recent_generations.pop(key, None)
        if batch is not None:
            batch.read.pop(key, None)
    return keys


def bump(*names: str) -> None:
    """Invalidate everything derived from these namespaces: one increment each, O(1), all of them
    in one round trip.

    If the shared cache is away the bump is remembered and replayed as soon as it answers, so
    a write during an outage does not leave stale reads behind once it is back.
    """
    keys = _forget_read(names)
    try:
        if is_shared():
            call(_bump_shared, keys)
        else:
            for key in keys:
                try:
                    cache.incr(key)
                except ValueError:  # never seen: start a fresh generation
                    cache.set(key, _seed(), None)
    except CacheUnavailable:
        with _pending_lock:
            _pending_bumps.update(names)


def _bump_shared(keys: list[str]) -> None:
    # A generation never seen (or lost with its key) starts from the clock, then goes up by
    # one: SET NX and INCR in one pipeline, plain commands (django-redis's incr is a Lua script
    # that asks first whether the key exists). Generations are stored as plain integers, which
    # is how the cache reads them back.
    pipe = redis_client().pipeline(transaction=False)
    send_bumps(pipe, [key.removeprefix(GENERATION_PREFIX) for key in keys])
    pipe.execute()


def bump_soon(*names: str) -> None:
    """`bump`, sent with this process's next round trip to Redis that can carry it (a form's
    rate-limit count: `ratelimit.fixed_window_with`), or by the background flusher within a tick
    (`background.TICK_SECONDS`), and always before this process reads a generation again. For a
    write whose readers are elsewhere (a visitor's signup, the founder's figures): they see it
    at most a tick late, never a value cached from before it once the bump has landed (it is
    still sent after the write commits), and the write's request makes no round trip for it."""
    if not is_shared():
        bump(*names)
        return
    _forget_read(names)
    with _pending_lock:
        _deferred_bumps.update(names)
    background.ensure_started()


_deferred_bumps: set[str] = set()


def take_deferred_bumps() -> list[str]:
    """The bumps waiting (`bump_soon`), handed to the caller to send (`send_bumps`)."""
    if not _deferred_bumps:  # read without the lock: the common case, nothing waiting
        return []
    with _pending_lock:
        names = list(_deferred_bumps)
        _deferred_bumps.clear()
    return names


def send_bumps(pipe: Any, names: list[str]) -> None:
    """Add the bumps of `names` to a pipeline of another call (see `_bump_shared`)."""
    for name in names:
        made = raw_key(GENERATION_PREFIX + name)
        pipe.set(made, _seed(), nx=True)
        pipe.incr(made)


def bumps_not_sent(names: list[str]) -> None:
    """The pipeline carrying these bumps failed: replayed once the cache answers again."""
    with _pending_lock:
        _pending_bumps.update(names)


def _send_deferred_bumps() -> None:
    names = take_deferred_bumps()
    if names:
        bump(*names)


background.register("mvpvalidator.cache.bumps", flush=_send_deferred_bumps, reset=_deferred_bumps.clear)


@on_recovery
def _replay_pending_bumps() -> None:
    with _pending_lock:
        pending = list(_pending_bumps)
        _pending_bumps.clear()
    if pending:
        bump(*pending)
