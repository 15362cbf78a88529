"""gunicorn's configuration for the web process: `gunicorn --config gunicorn.conf.py mvpvalidator.wsgi`.

gunicorn also reads this file by itself whenever it is started from the project folder without
`--config`; options given on the command line win over the values here. Every value can be
changed at run time without editing the file, through `GUNICORN_CMD_ARGS` (gunicorn's own
variable, e.g. `GUNICORN_CMD_ARGS="--max-requests 0"`); the three variables read below are the
ones a platform sets: WEB_CONCURRENCY, PORT and the platform's own TRUSTED_PROXIES.
"""

import os
import sys
from pathlib import Path

# The project folder, so the network parser below is the settings' own (gunicorn reads this file
# before it puts its working directory on the path).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mvpvalidator.networks import parse_networks


def _cpus() -> int:
    # The CPUs this process may run on (a container pinned to some cores sees those), not the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --- Where and how many ---------------------------------------------------------------------

bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
# Sync workers: one request at a time each, so the usual 2 x CPUs + 1 keeps the cores busy while
# some workers wait on PostgreSQL or Redis. Each worker opens its own database pool
# (DATABASE_POOL_MIN_SIZE..MAX_SIZE connections): workers x hosts x pool must stay under the
# server's max_connections. WEB_CONCURRENCY (the variable platforms set) overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)
worker_class = "sync"

# --- Timeouts -------------------------------------------------------------------------------

# The slowest legitimate request is bounded well under this: prototype generation with a model,
# maintenance (VACUUM/ANALYZE) and alert delivery run as jobs (Celery, or the background executor
# without a broker), never in the request; what stays is bounded by the platform's own limits:
# a pooled connection within DATABASE_POOL_TIMEOUT_SECONDS (5 s), a new one within
# DATABASE_CONNECT_TIMEOUT_SECONDS (5 s), health checks within HEALTH_CHECK_TIMEOUT_SECONDS (2 s),
# Redis within 0.25 s per call, and the streamed signup export (one keyset-paginated pass).
# 30 s leaves that a wide margin while a worker stuck on something unforeseen is still killed
# (and its traceback logged) before the load balancer's usual 60 s idle timeout answers the client.
timeout = 30
# On SIGTERM (a deploy, `docker compose stop`), workers finish the request in hand and send what
# they buffered (the event outbox, metrics) at exit: a request's own 30 s plus the exit flush.
# The container's stop_grace_period (compose.yaml) is longer, so Docker never SIGKILLs first.
graceful_timeout = 30
# Behind a load balancer that keeps connections open (sync workers close each after its answer).
keepalive = 5

# --- Worker recycling ----------------------------------------------------------------------

# A worker is replaced after about this many requests, so a slow leak (a library's cache, heap
# fragmentation) cannot grow without bound; the jitter keeps the workers from restarting together.
# Not fewer: a new worker starts with a cold local cache tier and opens its pools again, and at a
# few hundred requests a second per host a lower bound would recycle each worker every few seconds.
max_requests = 10_000
max_requests_jitter = 1_000

# --- Loading --------------------------------------------------------------------------------

# The app is imported once in the master and the workers are forked from it: faster boots and
# copy-on-write memory. Safe here: nothing opens a connection or starts a thread at import
# (mvpvalidator.background starts its flusher on first use, resets its state in every forked
# child through os.register_at_fork, and gives each new pid a new executor; database pools,
# Redis pools and the Celery producer are created lazily in the worker). The price: a code
# change needs a restart of the master (SIGHUP reloads configuration, not preloaded code), which
# is what a container deploy does anyway.
preload_app = True
# The workers' heartbeat files on memory, not on the container's overlay filesystem (where a
# slow disk can stall the heartbeat and get a healthy worker killed).
if Path("/dev/shm").is_dir():  # noqa: S108 - the kernel's shared-memory mount, not a temp file
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# No control socket (gunicorn 25+ opens one at $HOME/.gunicorn/gunicorn.ctl by default): several
# gunicorns of one user on a host (two web instances, tests beside a server) would share that one
# path, and the image's user has no home. Signals do the same work: HUP reloads the configuration,
# TTIN/TTOU add or remove a worker, TERM stops gracefully.
control_socket_disable = True

# --- The trusted proxy ------------------------------------------------------------------------

# The same addresses the platform trusts for X-Forwarded-For (security/ip.py reads TRUSTED_PROXIES
# through the same parser in the settings): gunicorn takes X-Forwarded-Proto (the scheme Django
# sees) only from these peers, and from nobody when none is set, which is the platform's default.
# gunicorn itself never rewrites REMOTE_ADDR; the platform walks the X-Forwarded-For chain.
forwarded_allow_ips = ",".join(
    str(network) for network in parse_networks(os.environ.get("TRUSTED_PROXIES", "").split(","))
)

# --- Logs -------------------------------------------------------------------------------------

# Both to the standard streams (the container's log driver or the process supervisor keeps them).
accesslog = "-"
errorlog = "-"
# One line per request carrying the request id the monitoring middleware answers with
# (X-Request-ID, also accepted from the proxy), so a line leads to the request's trace, its error
# group and its Sentry event. `h` is the peer (the proxy's address behind one), hence the
# forwarded chain beside it.
access_log_format = '%(h)s fwd="%({x-forwarded-for}i)s" "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s "%(a)s"'
