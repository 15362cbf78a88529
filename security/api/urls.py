from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from security.api import views

auth_urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("token", TokenObtainPairView.as_view(), name="auth-token"),
    path("token/refresh", TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
]

user_urlpatterns = [
    path("me", views.MeView.as_view(), name="users-me"),
]
