"""Settings for MVP Validator, read once from the environment.

With no variable set the platform runs on an embedded default (SQLite file, local-memory
cache, a development secret). `DATABASE_URL` and `REDIS_URL` switch it to PostgreSQL and
Redis. Production (`DJANGO_DEBUG=false`) refuses to start without a real secret and hosts.
Every variable is documented in `.env.example` and the README's configuration table.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from mvpvalidator.networks import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent

# A `.env` file in the project folder is read when present (variables already set win).
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
env = environ.Env()
# An empty value means "unset", whatever the type (`.env.example` and `.env.production.example`
# ship the optional variables empty): the settings read a view of the environment without them,
# so `FOO=` gives FOO's default rather than failing to parse "" as a number.
env.ENVIRON = {name: value for name, value in os.environ.items() if value.strip()}


def env_str(name: str, default: str = "") -> str:
    """A string variable where an empty value (as `.env.example` ships) means "unset"."""
    return env.str(name, default="").strip() or default


# --- Core -----------------------------------------------------------------------------------

# Development is the embedded default; production must say DJANGO_DEBUG=false explicitly,
# and `check --deploy` (run by .ci/run) fails while DEBUG is on.
DEBUG = env.bool("DJANGO_DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=false the platform refuses to start "
            "without a secret key: set DJANGO_SECRET_KEY to a long random value "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak for production (shorter than 32 characters or a "
        "development key). Generate a long random value."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is empty. With DJANGO_DEBUG=false list the host names the "
            "platform answers to, comma-separated (e.g. mvp.example.com)."
        )
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",
    "security",
    "monitoring",
    "jobs",
    "projects",
    "accounts",
]

MIDDLEWARE = [
    # Outermost: sends the public pages' requests down PUBLIC_MIDDLEWARE instead (below).
    "mvpvalidator.public_stack.PublicStackMiddleware",
    # The request id and timing cover everything below, errors and static files too.
    "monitoring.middleware.MonitoringMiddleware",
    # The headers, the block list and the rate limits apply to every response, static included,
    # so they sit above WhiteNoise (which answers static files itself). The block list and the
    # rate limits answer refusals themselves: they sit below the header middleware, so a 403,
    # a 429 or a scanner's 404 carries the same headers as any page.
    # The header middleware first, Django's SecurityMiddleware last among them: its HTTPS redirect
    # answers from above everything below it, so the headers above still go on that answer.
    "security.csp.CachedCSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "security.middleware.HeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "security.middleware.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # `request.htmx`: the workspace answers an htmx request with the fragment it swaps in.
    "django_htmx.middleware.HtmxMiddleware",
]

# The public pages' stack (`mvpvalidator.public_stack`): what a visitor's browser asks for under
# PUBLIC_PATH_PREFIX (the routes the public URLconf marks) goes through this list instead of
# MIDDLEWARE. A visitor needs the request id and timing, the security headers and CSP, the block
# list and the per-address limits, in MIDDLEWARE's order; not what only the workspace needs:
# sessions, Django's CSRF check (the visitors' forms carry a token bound to the visitor instead),
# the signed-in user (looked up only for a request that brings a session cookie: the founder's
# own views), flash messages, htmx, nor static files (never under the prefix).
PUBLIC_PATH_PREFIX = "/p/"
PUBLIC_MIDDLEWARE_OMITS = (
    "mvpvalidator.public_stack.PublicStackMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
)
PUBLIC_MIDDLEWARE = [m for m in MIDDLEWARE if m not in PUBLIC_MIDDLEWARE_OMITS]

ROOT_URLCONF = "mvpvalidator.urls"
WSGI_APPLICATION = "mvpvalidator.wsgi.application"
ASGI_APPLICATION = "mvpvalidator.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
DATABASE_POOL_MIN_SIZE = env.int("DATABASE_POOL_MIN_SIZE", default=2)
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=10)
DATABASE_POOL_TIMEOUT_SECONDS = env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=5.0)
DATABASE_CONNECT_TIMEOUT_SECONDS = env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=5)

# WAL lets the web server and the worker read while one writes; IMMEDIATE transactions take
# the write lock up front (waiting up to `timeout`) instead of failing mid-transaction when
# another process writes (page views write their events directly when Redis is away).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

if DATABASE_URL:
    _db = env.db_url_config(DATABASE_URL)
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        _db["OPTIONS"] = {**SQLITE_OPTIONS, **_db.get("OPTIONS", {})}
    if _db["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured(
            f"DATABASE_URL must point at PostgreSQL (postgres://...) or SQLite; got {_db['ENGINE']}."
        )
    if _db["ENGINE"] == "django.db.backends.postgresql":
        from mvpvalidator.db import TrackedConnection

        _db["OPTIONS"] = {
            **_db.get("OPTIONS", {}),
            # Django's psycopg 3 pool: connections are reused across requests, so
            # CONN_MAX_AGE stays 0 (the pool, not the persistent-connection code, owns them).
            "pool": {
                "min_size": DATABASE_POOL_MIN_SIZE,
                "max_size": DATABASE_POOL_MAX_SIZE,
                "timeout": DATABASE_POOL_TIMEOUT_SECONDS,
                # Records whether the server accepts connections, so that while it refuses
                # them a request waits REFUSING_POOL_WAIT_SECONDS for one, not the timeout.
                "connection_class": TrackedConnection,
            },
            "connect_timeout": DATABASE_CONNECT_TIMEOUT_SECONDS,
            "application_name": "mvpvalidator",
        }
        _db["CONN_MAX_AGE"] = 0
        _db["CONN_HEALTH_CHECKS"] = True
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
REDIS_PASSWORD = env_str("REDIS_PASSWORD")
ENABLE_REDIS_CACHE = env.bool("ENABLE_REDIS_CACHE", default=bool(REDIS_URL))
REDIS_SOCKET_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=0.25)
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=50)
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "mvp")
# The event buffer's Redis (`projects.events.buffer`): a server of its own that never evicts
# and keeps an append-only file, apart from the cache's evictable one. By default the cache's
# (its keys sit outside the cache's key space either way, so clearing the cache never reaches them).
EVENTS_REDIS_URL = env_str("EVENTS_REDIS_URL") or REDIS_URL
DEFAULT_CACHE_TTL_SECONDS = env.int("DEFAULT_CACHE_TTL_SECONDS", default=300)
PROJECT_CACHE_TTL_SECONDS = env.int("PROJECT_CACHE_TTL_SECONDS", default=600)
ANALYTICS_CACHE_TTL_SECONDS = env.int("ANALYTICS_CACHE_TTL_SECONDS", default=60)
# Off: cached reads always go to the database (diagnosis, and the uncached benchmark reference).
ENABLE_QUERY_CACHE = env.bool("ENABLE_QUERY_CACHE", default=True)

# --- Event tracking and the worker ---------------------------------------------------------

# Events per batch, from the buffer into rows and from rows into the rollups.
EVENT_FLUSH_BATCH = env.int("EVENT_FLUSH_BATCH", default=2000)
# The worker's pause when there is nothing to flush.
WORKER_INTERVAL_SECONDS = env.float("WORKER_INTERVAL_SECONDS", default=1.0)
# Buffered entries a dead worker had claimed are taken over after this long.
EVENT_CLAIM_IDLE_SECONDS = env.float("EVENT_CLAIM_IDLE_SECONDS", default=30.0)
# A page's buffer keeps at most about this many entries (the oldest go first) while no worker runs.
EVENT_BUFFER_MAXLEN = env.int("EVENT_BUFFER_MAXLEN", default=1_000_000)
# Raw events are kept this long; the daily rollups and experiment exposures for good.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)
# On PostgreSQL the events table has a partition per UTC day, made this many days ahead by the
# daily `events_partitions_ensure` (projects.events.partitions): a week of runs may fail before a
# day's events land in the catch-all DEFAULT partition.
EVENT_PARTITION_DAYS_AHEAD = env.int("EVENT_PARTITION_DAYS_AHEAD", default=7)
# Health turns `degraded` when more events than this wait, or the oldest waits longer than this.
EVENT_BACKLOG_WARN = env.int("EVENT_BACKLOG_WARN", default=50_000)
EVENT_BACKLOG_WARN_SECONDS = env.int("EVENT_BACKLOG_WARN_SECONDS", default=300)
# Analytics adds at most this many buffered events per page to its live figures.
EVENT_LIVE_MAX = env.int("EVENT_LIVE_MAX", default=50_000)
# The rollup's shards: a page's events are rolled up by shard page_id % EVENT_SHARDS, each shard
# under a lock of its own, so up to this many workers roll up at once. Every worker must run with
# the same value; see docs/OPERATIONS.md before changing it.
EVENT_SHARDS = env.int("EVENT_SHARDS", default=8)

for _name in (
    "EVENT_FLUSH_BATCH",
    "EVENT_BUFFER_MAXLEN",
    "EVENT_LIVE_MAX",
    "EVENT_BACKLOG_WARN",
    "EVENT_PARTITION_DAYS_AHEAD",
    "EVENT_SHARDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
if EVENT_SHARDS > 1024:
    raise ImproperlyConfigured("EVENT_SHARDS must be at most 1024 (a shard is a row lock, not a server).")
if EVENT_RETENTION_DAYS < 2:
    # A visitor's earlier events of the day are read from the raw rows (unique visitors, bounces).
    raise ImproperlyConfigured("EVENT_RETENTION_DAYS must be at least 2.")

if ENABLE_REDIS_CACHE and not REDIS_URL:
    raise ImproperlyConfigured("ENABLE_REDIS_CACHE=true needs REDIS_URL (redis://host:6379/0).")

if ENABLE_REDIS_CACHE:
    _redis_options: dict[str, object] = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "PARSER_CLASS": "redis.connection._HiredisParser",
        # Short timeouts: a slow or dead Redis must cost a request milliseconds, not seconds.
        "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
        "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
        "CONNECTION_POOL_KWARGS": {"max_connections": REDIS_MAX_CONNECTIONS},
    }
    if REDIS_PASSWORD:
        _redis_options["PASSWORD"] = REDIS_PASSWORD
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": DEFAULT_CACHE_TTL_SECONDS,
            "OPTIONS": _redis_options,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "mvpvalidator",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": DEFAULT_CACHE_TTL_SECONDS,
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# django-ratelimit counts in the default cache through the circuit breaker (fails fast).
CACHES["ratelimit"] = {"BACKEND": "security.ratelimit_cache.BreakerCache", "LOCATION": "default"}

# --- Identity and sessions ------------------------------------------------------------------

AUTH_USER_MODEL = "security.User"
# Django's model backend behind the login lockout (session, admin and JWT logins alike).
AUTHENTICATION_BACKENDS = ["security.backends.LockoutBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Argon2 first; PBKDF2 stays so older hashes verify and are upgraded on the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Salt for hashing visitor ids and addresses kept in analytics; falls back to the secret key.
PASSWORD_SALT = env_str("PASSWORD_SALT", SECRET_KEY)

SESSION_TIMEOUT_HOURS = env.int("SESSION_TIMEOUT_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_TIMEOUT_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The API's error shape for a CSRF failure under /api/, Django's page elsewhere.
CSRF_FAILURE_VIEW = "mvpvalidator.views.csrf_failure"

# --- HTTPS and headers (the security layer adds CSP and the rest) ---------------------------

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP; the probes must not be redirected.
SECURE_REDIRECT_EXEMPT = [r"^api/monitoring/(health|live)$"]
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): nothing by default, scripts and styles only from this
# origin or carrying the response's nonce, no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_NONE],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "manifest-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
    },
}
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# English only, with no translations to serve: the translation machinery would only cost every
# rendered date, truncation and admin label its lookups.
USE_I18N = False
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Media (uploads) ------------------------------------------------------------------------

# The founders' logos and hero images, written through Django's storage API. By default local
# files under MEDIA_ROOT, served by the platform itself at MEDIA_URL (`mvpvalidator.media`); with
# STORAGE_BUCKET_NAME set, an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Backblaze B2...)
# serves them from its own address, which the CSP then allows for images.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# An upload larger than this is refused before it is decoded.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=2 * 1024 * 1024)
# Django keeps request bodies up to this size in memory: the upload plus the form's other fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, UPLOAD_MAX_BYTES + 262_144)
STORAGE_BUCKET_NAME = env_str("STORAGE_BUCKET_NAME")
# The public origin images are loaded from (None: this site's own, the CSP's 'self').
MEDIA_ORIGIN: str | None = None
if STORAGE_BUCKET_NAME:
    _storage_endpoint = env_str("STORAGE_ENDPOINT_URL")  # unset: AWS S3 itself
    _storage_region = env_str("STORAGE_REGION")
    _storage_public = env_str("STORAGE_PUBLIC_URL").rstrip("/")  # a CDN or the bucket's public domain
    _storage_options: dict[str, Any] = {
        "bucket_name": STORAGE_BUCKET_NAME,
        "access_key": env_str("STORAGE_ACCESS_KEY_ID") or None,  # None: boto3's own chain (IAM role...)
        "secret_key": env_str("STORAGE_SECRET_ACCESS_KEY") or None,
        "endpoint_url": _storage_endpoint or None,
        "region_name": _storage_region or None,
        # Public images: plain URLs that a cached landing page can keep (no expiring signatures),
        # readable through the bucket's own policy rather than per-object ACLs.
        "querystring_auth": False,
        "default_acl": None,
        # Names are random; never overwrite a file another page still shows.
        "file_overwrite": False,
        # Uploaded names are random and never reused: browsers and CDNs may keep them for good.
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    if _storage_public:
        _public = urlsplit(_storage_public)
        if _public.scheme not in ("http", "https") or not _public.netloc:
            raise ImproperlyConfigured("STORAGE_PUBLIC_URL must be an http(s) URL such as https://cdn.example.com.")
        _storage_options["custom_domain"] = f"{_public.netloc}{_public.path}"
        _storage_options["url_protocol"] = f"{_public.scheme}:"
        MEDIA_ORIGIN = f"{_public.scheme}://{_public.netloc}"
    elif _storage_endpoint:
        _endpoint = urlsplit(_storage_endpoint)
        MEDIA_ORIGIN = f"{_endpoint.scheme}://{_endpoint.netloc}"
    else:
        MEDIA_ORIGIN = "https://*.amazonaws.com"
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _storage_options}
    # The pages' images come from the bucket's address: the CSP allows images from there too.
    _directives = cast(dict[str, list[str]], CONTENT_SECURITY_POLICY["DIRECTIVES"])
    _directives["img-src"] = [*_directives["img-src"], MEDIA_ORIGIN]

# --- Email ----------------------------------------------------------------------------------

# smtp://user:password@host:587 (or smtp+ssl://...); unset = emails printed on the console.
EMAIL_URL = env_str("EMAIL_URL", "consolemail://")
_email = env.email_url_config(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MVP Validator <noreply@localhost>")
# Where the links in emails point. The event worker sends them, with no request to take the
# host from; `check --deploy` warns while production leaves it unset.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if urlsplit(PUBLIC_BASE_URL).scheme not in ("http", "https") or not urlsplit(PUBLIC_BASE_URL).netloc:
    raise ImproperlyConfigured("PUBLIC_BASE_URL must be an http(s) URL such as https://mvp.example.com.")
PUBLIC_BASE_URL_SET = bool(env_str("PUBLIC_BASE_URL"))
# Health turns `degraded` when a confirmation email has been due longer than this (no worker
# sending, or the mail relay refusing).
EMAIL_BACKLOG_WARN_SECONDS = env.int("EMAIL_BACKLOG_WARN_SECONDS", default=300)

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "security.authentication.CachedJWTAuthentication",
        "security.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mvpvalidator.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "mvpvalidator.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "mvpvalidator.exception_handlers.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["security.limits.EndpointThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

JWT_SECRET = env_str("JWT_SECRET", SECRET_KEY)
if not DEBUG and JWT_SECRET != SECRET_KEY and len(JWT_SECRET) < 32:
    raise ImproperlyConfigured("JWT_SECRET is too short for production (at least 32 characters).")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET,
    "LEEWAY": 5,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MVP Validator API",
    "DESCRIPTION": "Turn a business idea into a landing page and measure whether there is demand.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mvpvalidator.schema.add_error_responses",
    ],
}

# --- Background jobs (Celery) ---------------------------------------------------------------

# The broker of the job queue: RabbitMQ (amqp://guest:guest@127.0.0.1:5672//) or a dedicated,
# non-evicting Redis (redis://host:6379/0), never the cache's evictable one. Unset (the embedded
# default): tasks run in the web or worker process that sends them, on its background executor,
# and `run_worker` runs the beat schedule itself (jobs.dispatch, jobs.schedule).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
JOBS_IN_PROCESS = not CELERY_BROKER_URL
if CELERY_BROKER_URL and urlsplit(CELERY_BROKER_URL).scheme not in ("amqp", "amqps", "pyamqp", "redis", "rediss"):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be an amqp:// (RabbitMQ) or redis:// URL.")


def _server(url: str) -> tuple[str, str, int | None]:
    """The server a URL names (scheme, host, port): redis://h:6379/1 and redis://h:6379/0 are two
    databases of one Redis, which evicts from all of them under one maxmemory policy."""
    parts = urlsplit(url)
    default_port = {"redis": 6379, "rediss": 6379}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    host = "127.0.0.1" if host in ("localhost", "::1") else host  # one machine, several names
    return parts.scheme, host, parts.port or default_port


if CELERY_BROKER_URL and REDIS_URL and _server(CELERY_BROKER_URL) == _server(REDIS_URL):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL is on the cache's Redis server (REDIS_URL): a cache may evict queued jobs. Use "
        "RabbitMQ or a Redis server of its own that never evicts."
    )
CELERY_TASK_ALWAYS_EAGER = JOBS_IN_PROCESS
CELERY_TASK_EAGER_PROPAGATES = False
# A task is acknowledged when it has finished, so a worker that dies mid-task leaves it for the
# next one (every task is idempotent), and each worker takes one task at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Outcomes live in the job rows (jobs.models.Job), not in a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is stopped after this long (the slowest legitimate one: VACUUM of a large table).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
# Sending a task never waits long on a broker that is down: the job stays queued in its row and
# is sent again when the broker is back (jobs.dispatch).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_TASK_PUBLISH_RETRY = False
# kombu's own retry when a send opens its connection: by default it waits 2 s before one more
# try, so a request sending to a stopped broker took over 2 s to its answer (measured with
# tests/jobs/test_broker_outage.py). One immediate retry instead; Redis gets the same connect
# timeout as RabbitMQ.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
}
# Health turns degraded when a queued job has waited longer than this (no worker takes jobs, or
# the broker is away and they wait to be sent again).
JOBS_BACKLOG_WARN_SECONDS = env.int("JOBS_BACKLOG_WARN_SECONDS", default=300)
# A queued job sent this long ago that no worker has started is sent again by the event worker
# (its process was recycled with the job in its pool, a message was lost); a duplicate delivery
# does nothing (jobs.services.job_recover_stale).
JOBS_RESEND_AFTER_SECONDS = env.int("JOBS_RESEND_AFTER_SECONDS", default=300)
# The production guide's maintenance (docs/OPERATIONS.md, Daily/Weekly/Monthly), UTC. With a
# broker `celery beat` sends each entry every hour from its time to the end of its day (minutes
# staggered): a send that was missed (broker down, beat restarted without its schedule file) is
# made up within the hour instead of skipping the period. Each task still runs once per period
# however often it is sent (jobs.schedule.once_per: its period, "daily" ..., is declared on the
# task; the extra sends find the period claimed and do nothing); the signup digest claims each
# founder's email instead, so a later send retries the founders a failed one missed. Without a
# broker the event worker sends each at the first pass of its period (jobs.schedule.tick).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Daily: rollups and prunes first, then the reports.
    "monitoring-prune": {"task": "monitoring.tasks.monitoring_prune", "schedule": crontab(hour="3-23", minute=0)},
    "events-prune": {"task": "projects.tasks.events_prune", "schedule": crontab(hour="3-23", minute=10)},
    # From midnight: the partitions of the days ahead (PostgreSQL), before that day's prune.
    "events-partitions": {
        "task": "projects.tasks.events_partitions_ensure",
        "schedule": crontab(hour="0-23", minute=5),
    },
    "security-data-clear": {"task": "security.tasks.security_data_clear", "schedule": crontab(hour="3-23", minute=20)},
    "cache-health-report": {
        "task": "monitoring.tasks.cache_health_report",
        "schedule": crontab(hour="3-23", minute=30),
    },
    # Founders read it in the morning (Europe); it covers the previous UTC day.
    "signup-digest": {"task": "projects.tasks.signup_digest_send", "schedule": crontab(hour="7-23", minute=0)},
    # Weekly, Sunday night: statistics for the planner after the week's deletes.
    "database-analyze": {
        "task": "monitoring.tasks.database_analyze",
        "schedule": crontab(day_of_week="sun", hour="4-23", minute=0),
    },
    # Monthly, on the 1st: the previous month's error patterns and security.
    "error-summary": {
        "task": "monitoring.tasks.error_summary",
        "schedule": crontab(day_of_month=1, hour="5-23", minute=0),
    },
    "security-summary": {
        "task": "security.tasks.security_summary",
        "schedule": crontab(day_of_month=1, hour="5-23", minute=10),
    },
    "jobs-prune": {"task": "jobs.tasks.jobs_prune", "schedule": crontab(hour="3-23", minute=40)},
}
# No result backend, so nothing for beat's default nightly `celery.backend_cleanup` to clean.
CELERY_RESULT_EXPIRES = None
# How often the event worker checks the schedule when there is no broker (jobs.schedule.tick).
SCHEDULE_TICK_SECONDS = env.float("SCHEDULE_TICK_SECONDS", default=30.0)

# --- Monitoring, security and product thresholds (used by the apps that own them) -----------

ENABLE_SENTRY_MONITORING = env.bool("ENABLE_SENTRY_MONITORING", default=False)
ENABLE_PERFORMANCE_MONITORING = env.bool("ENABLE_PERFORMANCE_MONITORING", default=True)
ENABLE_SECURITY_LOGGING = env.bool("ENABLE_SECURITY_LOGGING", default=True)
ENABLE_RATE_LIMITING = env.bool("ENABLE_RATE_LIMITING", default=True)

SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_PROJECT_ID = env_str("SENTRY_PROJECT_ID")
SENTRY_KEY = env_str("SENTRY_KEY")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_RELEASE = env_str("SENTRY_RELEASE")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.05)

ERROR_WEBHOOK_URL = env_str("ERROR_WEBHOOK_URL")
PERFORMANCE_WEBHOOK_URL = env_str("PERFORMANCE_WEBHOOK_URL")
SECURITY_WEBHOOK_URL = env_str("SECURITY_WEBHOOK_URL")
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=3.0)

SLOW_QUERY_THRESHOLD_MS = env.int("SLOW_QUERY_THRESHOLD_MS", default=100)
SLOW_OPERATION_THRESHOLD_MS = env.int("SLOW_OPERATION_THRESHOLD_MS", default=1000)
# Alert rules (evaluated off the request path over the last five minutes) and their KPIs.
ALERT_ERROR_RATE = env.float("ALERT_ERROR_RATE", default=0.01)
ALERT_P95_MS = env.float("ALERT_P95_MS", default=200.0)
ALERT_MIN_REQUESTS = env.int("ALERT_MIN_REQUESTS", default=20)
ALERT_DEDUP_MINUTES = env.int("ALERT_DEDUP_MINUTES", default=5)
# A production guide KPI failing (over the last two hour buckets) for longer than this alerts its
# channel, once per failing run, then reminds it every KPI_ALERT_REMIND_HOURS while it lasts.
KPI_ALERT_AFTER_MINUTES = env.int("KPI_ALERT_AFTER_MINUTES", default=15)
KPI_ALERT_REMIND_HOURS = env.int("KPI_ALERT_REMIND_HOURS", default=24)
# Alert delivery (monitoring.alerts): tries per alert, and the wait after the first failed one,
# doubled after each up to the cap. The defaults wait 2, 4, 8 ... 256, then 300 s between ten
# tries (13.5 minutes in all), so a webhook down for several minutes still gets the alert.
ALERT_DELIVERY_MAX_ATTEMPTS = env.int("ALERT_DELIVERY_MAX_ATTEMPTS", default=10)
ALERT_DELIVERY_BACKOFF_SECONDS = env.float("ALERT_DELIVERY_BACKOFF_SECONDS", default=2.0)
ALERT_DELIVERY_BACKOFF_MAX_SECONDS = env.float("ALERT_DELIVERY_BACKOFF_MAX_SECONDS", default=300.0)
if ALERT_DELIVERY_MAX_ATTEMPTS < 1 or ALERT_DELIVERY_BACKOFF_SECONDS <= 0:
    raise ImproperlyConfigured("ALERT_DELIVERY_MAX_ATTEMPTS must be at least 1 and the backoff positive.")
MONITORING_RETENTION_DAYS = env.int("MONITORING_RETENTION_DAYS", default=30)
HEALTH_CACHE_SECONDS = env.float("HEALTH_CACHE_SECONDS", default=5.0)
# Request traces for the dashboard's timeline: every failed, slow or flagged request, plus this
# share of the rest, kept this many hours.
TRACE_SAMPLE_RATE = env.float("TRACE_SAMPLE_RATE", default=0.01)
TRACE_RETENTION_HOURS = env.int("TRACE_RETENTION_HOURS", default=24)
# How often the staff dashboard refreshes its panels by default (the page lets staff change it).
DASHBOARD_REFRESH_SECONDS = env.int("DASHBOARD_REFRESH_SECONDS", default=30)
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)
# Bearer token for Prometheus scrapers of /metrics (staff sessions and tokens work too).
METRICS_TOKEN = env_str("METRICS_TOKEN")

MAX_REQUESTS_PER_HOUR = env.int("MAX_REQUESTS_PER_HOUR", default=1000)
RATE_LIMIT_WINDOW_MINUTES = env.int("RATE_LIMIT_WINDOW_MINUTES", default=60)
MAX_LOGIN_ATTEMPTS = env.int("MAX_LOGIN_ATTEMPTS", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Attempts at one account from clients it has not logged in from, within the lockout window,
# before such clients are slowed down (see security/lockout.py); and how long a client that
# logged in successfully stays known to the account.
LOGIN_ACCOUNT_MAX_ATTEMPTS = env.int("LOGIN_ACCOUNT_MAX_ATTEMPTS", default=20)
LOGIN_KNOWN_CLIENT_DAYS = env.int("LOGIN_KNOWN_CLIENT_DAYS", default=30)
BLOCK_DURATION_MINUTES = env.int("BLOCK_DURATION_MINUTES", default=60)
# Strikes that put an address on the block list (within 10 min, 1 h, 1 h and 1 min).
RATE_LIMIT_VIOLATIONS_TO_BLOCK = env.int("RATE_LIMIT_VIOLATIONS_TO_BLOCK", default=10)
LOCKOUTS_TO_BLOCK = env.int("LOCKOUTS_TO_BLOCK", default=3)
SCANNER_HITS_TO_BLOCK = env.int("SCANNER_HITS_TO_BLOCK", default=2)
ERROR_BURST_TO_BLOCK = env.int("ERROR_BURST_TO_BLOCK", default=100)
SECURITY_EVENT_RETENTION_DAYS = env.int("SECURITY_EVENT_RETENTION_DAYS", default=90)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# IPv6 clients are counted, limited and blocked per network of this many bits (an ordinary
# subscriber gets a whole /64); 128 counts single addresses.
IPV6_CLIENT_PREFIX = env.int("IPV6_CLIENT_PREFIX", default=64)
if not 32 <= IPV6_CLIENT_PREFIX <= 128:
    raise ImproperlyConfigured("IPV6_CLIENT_PREFIX is a prefix length between 32 and 128.")
# Networks never blocked nor rate limited (monitoring probes, the office).
SECURITY_ALLOWLIST = env.list("SECURITY_ALLOWLIST", default=[])
try:
    # Parsed here, once per process (project infrastructure, not an app: settings import no app code).
    TRUSTED_PROXY_NETWORKS = parse_networks(TRUSTED_PROXIES)
    SECURITY_ALLOWLIST_NETWORKS = parse_networks(SECURITY_ALLOWLIST)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES and SECURITY_ALLOWLIST take IP addresses or networks: {exc}") from exc

# Per-client limits on pages and forms (django-ratelimit; fail open when Redis is away).
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True
# account_email: the forms that email an account link (confirmation resend, password reset).
RATE_LIMITS = {"page_view": "120/m", "signup": "10/m", "login_form": "20/m", "account_email": "5/m"}
# Per-endpoint API limits: rate, what is counted (client address or user) and the policy when
# Redis is away (`open`, `closed`, or `local`: counted in the process).
API_THROTTLES = {
    "token": {"rate": "10/min", "key": "ip", "when_unavailable": "local"},
    "token_refresh": {"rate": "30/min", "key": "ip", "when_unavailable": "open"},
    "register": {"rate": "5/hour", "key": "ip", "when_unavailable": "closed"},
    "generate_prototype": {"rate": "20/hour", "key": "user", "when_unavailable": "open"},
}

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT_SECONDS = env.float("OPENAI_TIMEOUT_SECONDS", default=20.0)
if OPENAI_API_KEY and urlsplit(OPENAI_BASE_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("OPENAI_BASE_URL must be an http(s) URL.")

# --- Logging --------------------------------------------------------------------------------

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO").upper()
# One JSON object per line in production (for log shippers); a readable line in development.
LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "monitoring.logs.ContextFilter"}},
    "formatters": {
        "plain": {"()": "monitoring.logs.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "monitoring.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # One line per outbound request is noise; failures surface through the callers.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Sentry ---------------------------------------------------------------------------------
# Switched on by `MonitoringConfig.ready` when SENTRY_DSN is set and ENABLE_SENTRY_MONITORING is
# true (settings import no app code, and the hooks that scrub events live in `monitoring.sentry`).
