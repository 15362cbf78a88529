from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from security.tokens import VersionedRefreshToken


class UserOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    is_staff = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


class RegisterInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_password(self, value: str) -> str:
        # Checked with the other fields, so one answer lists every field's errors; the checks
        # that compare it with the account's email and name run again in `user_create`.
        try:
            password_validation.validate_password(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class LogoutInputSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField()


class TokenObtainInputSerializer(TokenObtainPairSerializer):
    """Email and password in, a token pair out, carrying the account's token version. An account
    signed up in the browser gets none until its address is confirmed, as its browser sign-in
    waits (`security.views.LoginForm`); told only once the password is right, so a wrong one
    learns nothing about the address."""

    token_class = VersionedRefreshToken

    @classmethod
    def get_token(cls, user: Any) -> Any:
        # Called once the password is right (a wrong one stops at `authenticate`), before any
        # token is made or the sign-in recorded.
        if not getattr(user, "email_confirmed", True):
            raise AuthenticationFailed(
                "Confirm your email address first: open the link we emailed you when you signed up.",
                code="email_unconfirmed",
            )
        return super().get_token(user)


class TokenRefreshInputSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField()


class TokenPairOutputSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()
