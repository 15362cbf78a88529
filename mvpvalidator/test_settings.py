"""Test overrides on top of the real settings: fast hashing, mail kept in memory."""

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
