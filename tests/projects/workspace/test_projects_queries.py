"""The founder's home and a project's hub cost a fixed number of queries however many projects,
pages and rollups there are."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.models import DailyRollup, LandingPage, PageStatus, Project, Prototype, ReportSnapshot, Traffic
from tests.factories import ProjectFactory, generate_and_publish

pytestmark = pytest.mark.django_db

# Session, user, the counts of open and archived projects, the projects with their figures; the
# messages framework reads the session it already loaded.
HOME_QUERIES = 4
HUB_QUERIES = 5


def _seed(owner, *, projects: int) -> None:
    """`projects` projects, each with a published page, two days of rollups and a kept report."""
    template = ProjectFactory(owner=owner, name="Template")
    page = generate_and_publish(template, slug="template")
    prototype = Prototype.objects.get(project=template)
    made = Project.objects.bulk_create(
        [
            Project(
                owner=owner,
                name=f"Idea {n}",
                idea_description=template.idea_description,
                price_point=template.price_point,
                business_model=template.business_model,
                status="live",
            )
            for n in range(projects - 1)
        ]
    )
    pages = LandingPage.objects.bulk_create(
        [
            LandingPage(
                project=p,
                prototype=prototype,
                slug=f"idea-{p.pk}",
                status=PageStatus.PUBLISHED,
                published_at=page.published_at,
                headline=page.headline,
                value_proposition=page.value_proposition,
                cta_text=page.cta_text,
            )
            for p in made
        ]
    )
    today = timezone.localdate()
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                page=pg, day=today - timedelta(days=d), channel="direct", traffic=Traffic.HUMAN, visitors=10, signups=1
            )
            for pg in [page, *pages]
            for d in (0, 1)
        ]
    )
    ReportSnapshot.objects.bulk_create(
        [ReportSnapshot(project=p, verdict="inconclusive", data={}) for p in [template, *made]]
    )


def test_the_home_with_100_projects_costs_a_fixed_number_of_queries(user):
    _seed(user, projects=100)
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/projects/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="card project-card"') == 100
    assert body.count("<dd>20</dd>") == 100  # visitors this week: two days of 10
    assert body.count("Inconclusive") == 100
    assert len(queries) == HOME_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)


def test_the_home_costs_the_same_with_one_project_as_with_100(user):
    _seed(user, projects=1)
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/projects/").status_code == 200
    assert len(queries) == HOME_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)


def test_a_projects_hub_costs_a_fixed_number_of_queries(user):
    project = ProjectFactory(owner=user)
    generate_and_publish(project, slug="one")
    for n in range(5):
        LandingPage.objects.create(
            project=project, slug=f"draft-{n}", headline="Draft", value_proposition="v", cta_text="Go"
        )
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/projects/{project.pk}/")
    assert response.status_code == 200 and response.content.decode().count("<tr>") == 7  # head + 6 pages
    assert len(queries) == HUB_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)
