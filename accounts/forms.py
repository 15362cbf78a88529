"""The account pages' forms. They parse; the rules (password strength, a taken address, the
password check) are the services', whose refusals go beside the fields
(`mvpvalidator.forms.add_service_errors`)."""

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms

from accounts import emails
from security.models import User


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(
        max_length=150, required=False, help_text="Shown on your account; optional.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )  # fmt: skip
    password = forms.CharField(
        strip=False, help_text="At least 10 characters; not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip


class ResendForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class SettingsForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    signup_digest = forms.BooleanField(required=False, label="Email me a daily summary of new signups")


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        max_length=254, label="New email address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        strip=False, label="Current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )  # fmt: skip


class DeleteForm(forms.Form):
    password = forms.CharField(
        strip=False, label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm_email = forms.CharField(
        max_length=254, label="Type your email address to confirm",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, with a cap on how many reset emails one address gets an hour (whoever asks)."""

    def get_users(self, email: str) -> Any:
        for user in super().get_users(email):
            if emails.address_may_receive(user.email, kind=emails.PASSWORD_RESET):
                yield user


class SetPasswordForm(auth_forms.SetPasswordForm):  # type: ignore[type-arg]
    """Django's; a reset also confirms the address (the link reached it), so a founder who lost
    the sign-up email gets in this way too."""

    def save(self, commit: bool = True) -> Any:
        user: User = self.user
        user.email_confirmed = True
        return super().save(commit=commit)
