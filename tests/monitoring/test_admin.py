"""The monitoring and security tables in the admin: view-only pages, filters, the "Mark resolved"
action (and an error's recurrence undoing it), who gets in, and escaping of what errors carry."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring import errors, services
from monitoring.models import AlertDelivery, ErrorGroup, RequestMetricHour, SlowOperationGroup, SlowQueryGroup
from security.models import EventKind, SecurityEvent, Severity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


def error_group(**fields) -> ErrorGroup:
    now = timezone.now()
    defaults = {
        "fingerprint": f"fp-{ErrorGroup.objects.count()}",
        "exc_type": "builtins.KeyError",
        "message": "'missing thing'",
        "location": "projects/views.py:10 in detail",
        "first_seen": now - timedelta(hours=1),
        "last_seen": now,
        "last_request_id": "req-0123456789",
        "route": "/api/projects/<int:project_id>",
    }
    return ErrorGroup.objects.create(**{**defaults, **fields})


def slow_query(**fields) -> SlowQueryGroup:
    now = timezone.now()
    defaults = {
        "fingerprint": f"sq-{SlowQueryGroup.objects.count()}",
        "sql": 'SELECT * FROM "projects_project" WHERE "owner_id" = %s',
        "vendor": "sqlite",
        "count": 4,
        "total_ms": 1000.0,
        "max_ms": 400.0,
        "first_seen": now,
        "last_seen": now,
        "call_site": "projects/selectors.py:12 in project_list",
        "plan": "SCAN projects_project",
    }
    return SlowQueryGroup.objects.create(**{**defaults, **fields})


def slow_operation() -> SlowOperationGroup:
    now = timezone.now()
    return SlowOperationGroup.objects.create(
        kind=SlowOperationGroup.Kind.SERVICE, name="project_create", count=2, total_ms=900.0, max_ms=600.0,
        first_seen=now, last_seen=now,
    )  # fmt: skip


def metric_hour() -> RequestMetricHour:
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    return RequestMetricHour.objects.create(
        hour=hour, route="/api/projects/", method="GET", status_class="2xx", count=10, errors=1, total_ms=250.0,
        histogram=[5, 5],
    )  # fmt: skip


def alert() -> AlertDelivery:
    return AlertDelivery.objects.create(
        channel=AlertDelivery.Channel.ERROR, rule="new_error", payload={"text": "boom"}, delivered=True,
        response_status=200,
    )  # fmt: skip


def security_event() -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=EventKind.LOGIN_FAILED, severity=Severity.MEDIUM, ip="203.0.113.9", user=UserFactory(),
        identifier="someone@example.com", request_id="req-abcdef012345", method="POST", path="/login/",
    )  # fmt: skip


SEEDS = {
    "monitoring_errorgroup": error_group,
    "monitoring_slowquerygroup": slow_query,
    "monitoring_slowoperationgroup": slow_operation,
    "monitoring_requestmetrichour": metric_hour,
    "monitoring_alertdelivery": alert,
    "security_securityevent": security_event,
}


def changelist(name: str) -> str:
    return reverse(f"admin:{name}_changelist")


def raise_and_record(message: str = "missing thing") -> ErrorGroup:
    """The same error from the same place each call, recorded the way the platform records it."""
    try:
        raise KeyError(message)
    except KeyError as exc:
        group = errors.record_exception(exc, handled=True)
    assert group is not None
    return group


def mark_resolved(client: Client, *groups: ErrorGroup):
    return client.post(
        changelist("monitoring_errorgroup"),
        {"action": "mark_resolved", "_selected_action": [g.pk for g in groups]},
        follow=True,
    )


@pytest.mark.parametrize("name", SEEDS)
def test_changelist_and_change_page_render_for_a_superuser(admin_client, name):
    obj = SEEDS[name]()
    listing = admin_client.get(changelist(name))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    change = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
    assert change.status_code == 200
    assert not change.context["has_change_permission"]  # view-only: nothing to save back


@pytest.mark.parametrize("name", SEEDS)
def test_add_view_is_forbidden_even_to_a_superuser(admin_client, name):
    assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 403


@pytest.mark.parametrize("name", SEEDS)
def test_non_staff_user_is_sent_to_the_admin_login(client, user, name):
    client.force_login(user)
    response = client.get(changelist(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_changelists_sort_by_every_column(admin_client):
    """Display columns with an `ordering` (mean ms, resolved, has plan) sort in the database."""
    for name, seed in SEEDS.items():
        seed()
        columns = len(admin_client.get(changelist(name)).context["cl"].list_display)
        for index in range(columns):
            assert admin_client.get(changelist(name), {"o": str(index)}).status_code == 200, (name, index)


@pytest.mark.parametrize(("value", "expected"), [("yes", {"resolved"}), ("no", {"open"}), (None, {"resolved", "open"})])
def test_error_groups_filter_on_resolved(admin_client, value, expected):
    error_group(message="resolved", resolved_at=timezone.now())
    error_group(message="open")
    params = {"resolved": value} if value else {}
    response = admin_client.get(changelist("monitoring_errorgroup"), params)
    assert {g.message for g in response.context["cl"].result_list} == expected


def test_error_groups_filter_on_handled_and_search_by_request_id(admin_client):
    error_group(handled=True, last_request_id="req-wanted-0001")
    error_group(handled=False, last_request_id="req-other-0002")
    url = changelist("monitoring_errorgroup")
    handled = admin_client.get(url, {"handled__exact": "1"}).context["cl"].result_list
    assert [g.last_request_id for g in handled] == ["req-wanted-0001"]
    found = admin_client.get(url, {"q": "wanted"}).context["cl"].result_list
    assert [g.last_request_id for g in found] == ["req-wanted-0001"]


def test_mark_resolved_action_resolves_and_a_recurrence_reopens(admin_client):
    group = raise_and_record()
    other = error_group()
    response = mark_resolved(admin_client, group)
    assert response.status_code == 200
    assert "Marked 1 error group(s) resolved." in [str(m) for m in response.context["messages"]]
    group.refresh_from_db()
    other.refresh_from_db()
    assert group.resolved_at is not None and other.resolved_at is None

    again = raise_and_record()
    assert again.pk == group.pk
    assert again.count == 2
    assert again.resolved_at is None


def test_error_groups_resolve_counts_only_newly_resolved_and_keeps_the_first_time():
    earlier = timezone.now() - timedelta(days=1)
    done = error_group(resolved_at=earlier)
    fresh = error_group()
    assert services.error_groups_resolve(ids=[done.pk, fresh.pk]) == 1
    done.refresh_from_db()
    fresh.refresh_from_db()
    assert done.resolved_at == earlier and fresh.resolved_at is not None


def test_staff_with_view_permission_only_cannot_mark_resolved(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_errorgroup"))
    client.force_login(viewer)
    group = error_group()
    assert client.get(changelist("monitoring_errorgroup")).status_code == 200
    mark_resolved(client, group)
    group.refresh_from_db()
    assert group.resolved_at is None


def test_hostile_error_message_is_escaped_on_the_changelist(admin_client):
    error_group(message=HOSTILE)
    content = admin_client.get(changelist("monitoring_errorgroup")).content.decode()
    assert HOSTILE not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_slow_query_plan_is_shown_preformatted_and_escaped(admin_client):
    group = slow_query(plan=f"SCAN t {HOSTILE}")
    content = admin_client.get(reverse("admin:monitoring_slowquerygroup_change", args=[group.pk])).content.decode()
    assert "<pre>SCAN t &lt;script&gt;alert(1)&lt;/script&gt;</pre>" in content
    assert HOSTILE not in content


def test_slow_query_changelist_shows_mean_and_whether_a_plan_was_captured(admin_client):
    slow_query(count=4, total_ms=1000.0)
    slow_query(plan="")
    content = admin_client.get(changelist("monitoring_slowquerygroup")).content.decode()
    assert "250.0" in content
    assert 'alt="True"' in content and 'alt="False"' in content
