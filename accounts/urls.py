from django.contrib.auth import views as auth_views
from django.urls import path

from security import views as security_views

urlpatterns = [
    path("login/", security_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
