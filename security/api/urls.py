from django.urls import path

from security.api import views

auth_urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("token", views.TokenView.as_view(), name="auth-token"),
    path("token/refresh", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
]

user_urlpatterns = [
    path("me", views.MeView.as_view(), name="users-me"),
]
