"""Reading a KPI as an operator does: `GET /api/monitoring/kpis` as staff, from an address of its
own (the tests drive the figures from 127.0.0.1, which some of them get blocked)."""

from typing import Any

from rest_framework.test import APIClient

from tests.conftest import bearer
from tests.factories import UserFactory

READER_ADDRESS = "192.0.2.250"


def kpi(kpi_id: str, *, hours: int = 24) -> dict[str, Any]:
    client = APIClient(REMOTE_ADDR=READER_ADDRESS)
    client.credentials(HTTP_AUTHORIZATION=bearer(UserFactory(is_staff=True)))
    response = client.get(f"/api/monitoring/kpis?hours={hours}", secure=True)
    assert response.status_code == 200, response.content
    return next(row for row in response.json()["kpis"] if row["id"] == kpi_id)
