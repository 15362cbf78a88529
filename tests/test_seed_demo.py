import pytest
from django.core.management import call_command

from projects.demo import DEMO_FOUNDER, DEMO_STAFF
from security.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_its_printed_logins_work(api_client, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert f"{DEMO_FOUNDER.email} / {DEMO_FOUNDER.password}" in out
    assert User.objects.filter(email__in=[DEMO_STAFF.email, DEMO_FOUNDER.email]).count() == 2
    assert User.objects.get(email=DEMO_STAFF.email).is_staff
    response = api_client.post(
        "/api/auth/token", {"email": DEMO_FOUNDER.email, "password": DEMO_FOUNDER.password}, format="json"
    )
    assert response.status_code == 200
