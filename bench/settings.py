"""Benchmark settings: the production settings plus reference views measured in the same run.

`BENCH_MIDDLEWARE=bare` serves the same views without the platform's own middleware (every
class under `monitoring.` or `security.`), `monitoring` without the security layer only, so a
benchmark can measure what each layer costs; `full` (the default) keeps `MIDDLEWARE` exactly as
the project configures it.
"""

from django.core.exceptions import ImproperlyConfigured

from mvpvalidator.settings import *  # noqa: F403
from mvpvalidator.settings import MIDDLEWARE, env_str

ROOT_URLCONF = "bench.urls"

PLATFORM_MIDDLEWARE_PREFIXES = ("monitoring.", "security.")
BENCH_MIDDLEWARE = env_str("BENCH_MIDDLEWARE", "full").lower()
if BENCH_MIDDLEWARE == "bare":
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith(PLATFORM_MIDDLEWARE_PREFIXES)]
elif BENCH_MIDDLEWARE == "monitoring":  # the monitoring middleware without the security layer
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("security.")]
elif BENCH_MIDDLEWARE != "full":
    raise ImproperlyConfigured("BENCH_MIDDLEWARE must be full, monitoring or bare.")

# The load comes from one address. The limits still count every request (their cost is part of
# what is measured) but are set high enough never to refuse one.
MAX_REQUESTS_PER_HOUR = 10**12
RATE_LIMITS = {name: "1000000000/s" for name in RATE_LIMITS}  # noqa: F405
API_THROTTLES = {name: {**conf, "rate": "1000000000/s"} for name, conf in API_THROTTLES.items()}  # noqa: F405
ERROR_BURST_TO_BLOCK = 10**12
