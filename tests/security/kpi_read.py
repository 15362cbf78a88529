"""Reading a KPI as the monitor shows it (every KPI evaluated against its bar)."""

from typing import Any

from monitoring import kpis


def kpi(kpi_id: str, *, hours: int = 24) -> dict[str, Any]:
    return next(k for k in kpis.evaluate(hours=hours) if k["id"] == kpi_id)
