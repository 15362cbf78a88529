"""Reading a KPI as the monitor's API shows it (every KPI evaluated against its bar)."""

from tests.kpi_api import kpi

__all__ = ["kpi"]
