from django.urls import path

from security.api import monitoring, views

auth_urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("token", views.TokenView.as_view(), name="auth-token"),
    path("token/refresh", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
]

user_urlpatterns = [
    path("me", views.MeView.as_view(), name="users-me"),
]

monitoring_urlpatterns = [
    path("security-stats", monitoring.SecurityStatsView.as_view(), name="monitoring-security-stats"),
    path("blocked-ips", monitoring.BlockedIPsView.as_view(), name="monitoring-blocked-ips"),
    # `path`: a network's CIDR spelling has a slash (`blocked-ips/203.0.113.0/24/unblock`).
    path("blocked-ips/<path:ip>/unblock", monitoring.UnblockView.as_view(), name="monitoring-unblock-ip"),
    path("clear-security-data", monitoring.ClearSecurityDataView.as_view(), name="monitoring-clear-security-data"),
]
