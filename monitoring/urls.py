from django.urls import path

from monitoring import views

urlpatterns = [
    path("", views.dashboard, name="performance-monitor"),
    path("panels/", views.panels_fragment, name="performance-monitor-panels"),
    path("requests/<str:request_id>/", views.request_detail, name="performance-monitor-request"),
    path("unblock/", views.unblock, name="performance-monitor-unblock"),
    path("resolve/", views.resolve_error, name="performance-monitor-resolve"),
]
