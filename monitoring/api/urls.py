from django.urls import path

from monitoring.api import performance, views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="monitoring-health"),
    path("live", views.LiveView.as_view(), name="monitoring-live"),
    path("cache-stats", views.CacheStatsView.as_view(), name="monitoring-cache-stats"),
    path("clear-cache", views.ClearCacheView.as_view(), name="monitoring-clear-cache"),
    path("optimize-db", views.OptimizeDbView.as_view(), name="monitoring-optimize-db"),
    path("performance", performance.PerformanceView.as_view(), name="monitoring-performance"),
    path("kpis", performance.KpisView.as_view(), name="monitoring-kpis"),
    path("errors", performance.ErrorGroupsView.as_view(), name="monitoring-errors"),
]
