"""Property-based conformance of the API to its own OpenAPI document (Schemathesis).

The schema is loaded from the Django WSGI application in-process, each operation is called with
generated input as an authenticated founder who owns one object of every kind, and each answer
must be no 5xx, a documented status code, a documented content type and a body that matches the
documented schema. Path ids are pinned to the founder's own objects for part of the examples, so
the operations are exercised past the ownership 404 too.

Generation is derandomized and bounded: the same examples every run, no flakes in CI.
"""

import json
import zlib

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobs.models import Job
from mvpvalidator.wsgi import application
from projects.services.campaigns import campaign_create
from projects.services.experiments import experiment_create
from tests.conftest import bearer
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 12


def _load_schema():
    """The document /api/schema/ serves, built the way its view builds it, then bound to the WSGI
    application so every generated request goes through the whole Django stack in-process.

    Built rather than fetched at import time: fetching goes through the middleware, whose block
    list reads the database, and at collection time there is no test database yet (the lazy
    `schemathesis.pytest.from_fixture` loader does not run under pytest 9).
    `test_the_fuzzed_document_is_the_served_one` pins the two together.
    """
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    document = json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
    return loaded, document


schema, DOCUMENT = _load_schema()

# The first path segment → the founder's object a `{pk}` on that path names.
PK_OWNERS = {
    "projects": "project",
    "landing-pages": "page",
    "experiments": "experiment",
    "campaigns": "campaign",
    "jobs": "job",
}


@pytest.fixture
def _connection_kept_across_requests():
    """Schemathesis calls the WSGI application directly, not through Django's test client, so
    the request signals would close the test's connection at each request's end (on PostgreSQL;
    SQLite's in-memory one is never closed) and lose its transaction. Django's test client
    disconnects the same handler for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def founder_objects(db, settings, _connection_kept_across_requests):
    # Hundreds of generated requests, most of them refused, from one address in one test: the
    # rate limits and the 4xx-burst block would otherwise end the run with 429s and 403s.
    settings.MAX_REQUESTS_PER_HOUR = 10**6
    settings.ERROR_BURST_TO_BLOCK = 10**6
    settings.API_THROTTLES = {scope: {**rule, "rate": "100000/min"} for scope, rule in settings.API_THROTTLES.items()}
    user = UserFactory()
    project = ProjectFactory(owner=user)
    page = generate_and_publish(project, slug="schemathesis-page")
    experiment = experiment_create(page=page, name="Headline", variants=[{"key": "control"}, {"key": "b"}])
    campaign = campaign_create(project=project, name="Launch", platform="google", budget="100", utm_campaign="launch")
    job = Job.objects.create(kind="prototype.generate", owner=user, status="succeeded", result={"prototype": {}})
    return {
        "authorization": bearer(user),
        "ids": {
            "project": project.pk,
            "page": page.pk,
            "experiment": experiment.pk,
            "campaign": campaign.pk,
            "job": job.pk,
        },
    }


def _pin_own_object(case, ids: dict[str, int]) -> None:
    if not case.path_parameters or "id" not in case.path_parameters:
        return
    segment = case.operation.path.strip("/").split("/")[1]
    # Every other example keeps its generated id (a missing or another user's object).
    if zlib.crc32(f"{case.body!r}{case.query!r}".encode()) % 2 == 0:
        case.path_parameters["id"] = ids[PK_OWNERS[segment]]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, founder_objects):
    _pin_own_object(case, founder_objects["ids"])
    # Each example in a savepoint rolled back afterwards: the request runs in this thread on this
    # connection, so a DELETE in one example does not take the founder's objects from the next.
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": founder_objects["authorization"]}, checks=CHECKS)
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.usefixtures("_connection_kept_across_requests")
def test_the_fuzzed_document_is_the_served_one():
    served = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    assert served.raw_schema == DOCUMENT
