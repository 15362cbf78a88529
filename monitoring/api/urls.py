from django.urls import path

from monitoring.api import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="monitoring-health"),
    path("live", views.LiveView.as_view(), name="monitoring-live"),
]
