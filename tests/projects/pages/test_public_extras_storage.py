"""Where uploads are stored (settings' media block): local files by default, served by the platform
at /media/ with long cache headers; an S3-compatible bucket when STORAGE_BUCKET_NAME is set,
configured from the environment (the storage is built here, no request leaves the machine)."""

import importlib.util
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client, override_settings

import mvpvalidator.settings

SETTINGS_FILE = Path(mvpvalidator.settings.__file__)
STORAGE_VARIABLES = (
    "STORAGE_BUCKET_NAME",
    "STORAGE_ENDPOINT_URL",
    "STORAGE_REGION",
    "STORAGE_ACCESS_KEY_ID",
    "STORAGE_SECRET_ACCESS_KEY",
    "STORAGE_PUBLIC_URL",
    "MEDIA_ROOT",
)


def settings_with(monkeypatch, **variables):
    """The settings module as it reads this environment (a fresh copy: the running one is untouched)."""
    for name in STORAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_by_default_uploads_are_local_files(monkeypatch, tmp_path):
    settings = settings_with(monkeypatch, MEDIA_ROOT=str(tmp_path / "uploads"))
    assert settings.STORAGES["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert tmp_path / "uploads" == settings.MEDIA_ROOT and settings.MEDIA_URL == "/media/"
    assert settings.MEDIA_ORIGIN is None
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] == ["'self'", "data:"]


def test_a_bucket_name_switches_to_s3_compatible_storage_configured_from_the_environment(monkeypatch):
    from storages.backends.s3 import S3Storage

    settings = settings_with(
        monkeypatch,
        STORAGE_BUCKET_NAME="mvp-uploads",
        STORAGE_ENDPOINT_URL="https://account.r2.cloudflarestorage.com",
        STORAGE_REGION="auto",
        STORAGE_ACCESS_KEY_ID="AKIAEXAMPLE",
        STORAGE_SECRET_ACCESS_KEY="secret-example",
        STORAGE_PUBLIC_URL="https://img.example.com/",
    )
    default = settings.STORAGES["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    storage = S3Storage(**default["OPTIONS"])
    assert storage.bucket_name == "mvp-uploads"
    assert storage.endpoint_url == "https://account.r2.cloudflarestorage.com"
    assert storage.region_name == "auto"
    assert storage.access_key == "AKIAEXAMPLE" and storage.secret_key == "secret-example"
    assert storage.querystring_auth is False and storage.file_overwrite is False and storage.default_acl is None
    assert storage.object_parameters["CacheControl"] == "public, max-age=31536000, immutable"
    # Public, unsigned addresses on the public domain (built locally: no request to the bucket).
    assert storage.url("pages/1/logo-abc.png") == "https://img.example.com/pages/1/logo-abc.png"
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] == ["'self'", "data:", "https://img.example.com"]
    # The running settings' policy is not changed by this module's copy.
    assert "https://img.example.com" not in mvpvalidator.settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"]


def test_without_a_public_url_the_bucket_is_reached_at_its_endpoint(monkeypatch):
    from storages.backends.s3 import S3Storage

    settings = settings_with(
        monkeypatch, STORAGE_BUCKET_NAME="mvp-uploads", STORAGE_ENDPOINT_URL="https://minio.internal:9000"
    )
    options = settings.STORAGES["default"]["OPTIONS"]
    assert options["access_key"] is None and options["secret_key"] is None  # boto3's own credentials chain
    assert settings.MEDIA_ORIGIN == "https://minio.internal:9000"
    storage = S3Storage(**{**options, "access_key": "k", "secret_key": "s"})
    url = storage.url("pages/1/hero-abc.jpg")
    assert url.startswith("https://minio.internal:9000/mvp-uploads/pages/1/hero-abc.jpg") and "Signature" not in url


def test_a_public_url_that_is_not_http_is_refused_at_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="STORAGE_PUBLIC_URL"):
        settings_with(monkeypatch, STORAGE_BUCKET_NAME="b", STORAGE_PUBLIC_URL="img.example.com")


# --- Serving local files -----------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_local_uploads_are_served_with_debug_off_cached_for_good(settings, media_root):
    from django.core.files.storage import default_storage

    settings.DEBUG = False
    name = default_storage.save("pages/7/logo-xyz.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    response = Client().get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"


@pytest.mark.parametrize("path", ["pages/7/missing.png", "../settings.py", "pages/", "%2e%2e/secret"])
def test_nothing_outside_the_uploads_and_no_listing_is_served(media_root, path):
    (media_root / "pages").mkdir(parents=True)
    (media_root.parent / "secret").write_text("not for the web")
    # A path leaving the folder is Django's SuspiciousFileOperation (a 400, logged as such).
    response = Client(raise_request_exception=False).get(f"/media/{path}")
    assert response.status_code in (400, 404) and b"not for the web" not in response.content


def test_with_a_bucket_the_platform_serves_no_uploads(media_root):
    from django.core.files.storage import default_storage

    default_storage.save("pages/7/logo.png", ContentFile(b"x"))
    bucket = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "b", "querystring_auth": False}}
    with override_settings(STORAGES={**mvpvalidator.settings.STORAGES, "default": bucket}):
        assert Client().get("/media/pages/7/logo.png").status_code == 404
