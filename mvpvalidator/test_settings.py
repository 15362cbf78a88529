"""Test overrides on top of the real settings: fast hashing, mail kept in memory."""

import os

from mvpvalidator.settings import *  # noqa: F403
from mvpvalidator.settings import CACHES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Tests share a Redis with whatever else runs on it: keep their keys under their own prefix.
CACHES["default"]["KEY_PREFIX"] = "mvptest"
# Serve static files from the app folders; tests do not run collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Files looked up when asked for, not every app's static files listed when WhiteNoise starts: it
# starts with each test client (a client loads the middleware), and the listing (about 230 files)
# cost 30 ms a client, a minute of the two-thousand-visitor test. What is served is the same.
WHITENOISE_AUTOREFRESH = True
# Jobs run in-process in tests whatever the environment says (CI sets CELERY_BROKER_URL for the
# RabbitMQ tests): a test of real workers switches to a broker of its own (tests/jobs/conftest.py,
# use_broker), and CELERY_BROKER_URL only names the RabbitMQ those tests make their hosts on. The
# Celery worker such a test starts is told so (MVP_TEST_CELERY_WORKER=1): it sends what it sends
# (retries, follow-ups) through its broker, as a deployed worker does.
_TEST_CELERY_WORKER = os.environ.get("MVP_TEST_CELERY_WORKER") == "1"
JOBS_IN_PROCESS = not _TEST_CELERY_WORKER
CELERY_TASK_ALWAYS_EAGER = not _TEST_CELERY_WORKER
# Celery reads the CELERY_BROKER_URL variable before any setting, so a test's broker of its own
# (use_broker) would lose to the environment's: the variable has been read into the setting above.
os.environ.pop("CELERY_BROKER_URL", None)
