"""The account pages, under /accounts/: sign-in and sign-out, sign-up and its confirmation, the
password reset (Django's URL names, which its views reverse), the settings and what they link to."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from security import views as security_views

urlpatterns = [
    path("", views.settings_page, name="account-settings"),
    path("login/", security_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="home"), name="logout"),
    path("signup/", views.signup, name="account-signup"),
    path("signup/sent/", views.signup_sent, name="account-signup-sent"),
    path("confirm/resend/", views.confirm_resend, name="account-confirm-resend"),
    path("confirm/<str:token>/", views.confirm, name="account-confirm"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("password/", views.PasswordChangeView.as_view(), name="account-password-change"),
    path("email/", views.email_change, name="account-email-change"),
    path("email/confirm/<str:token>/", views.email_confirm, name="account-email-confirm"),
    path("export/", views.export, name="account-export"),
    path("delete/", views.delete, name="account-delete"),
]
