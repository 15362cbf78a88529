import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_valid_and_lists_the_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    paths = set(schema["paths"])
    assert {"/api/auth/register", "/api/auth/token", "/api/users/me", "/api/monitoring/health"} <= paths


def test_swagger_ui_is_served_from_local_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html


def test_schema_generation_has_no_warnings():
    # `check --deploy` runs drf-spectacular's check: any warning fails the deploy check in CI.
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", stdout=StringIO(), stderr=StringIO())


def test_deploy_checks_of_the_schema_are_clean():
    from django.core import checks

    messages = [m for m in checks.run_checks(include_deployment_checks=True) if m.id.startswith("drf_spectacular")]
    assert messages == []
