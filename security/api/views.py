from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken

from security import audit, services
from security.api.serializers import (
    LogoutInputSerializer,
    RegisterInputSerializer,
    TokenObtainInputSerializer,
    TokenPairOutputSerializer,
    TokenRefreshInputSerializer,
    UserOutputSerializer,
)
from security.models import User


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type[Any]] = []
    throttle_scope = "register"

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> Response:
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LogoutView(APIView):
    """Log out everywhere: the refresh token given and every other token of the account, access
    tokens included, stop working at once, and so do its browser sessions."""

    @extend_schema(request=LogoutInputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.user_logout(user=cast(User, request.user), refresh=data.validated_data["refresh"])
        except InvalidToken:
            audit.invalid_token(request)
            raise
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)


class TokenView(jwt_views.TokenObtainPairView):
    """Email + password → access and refresh tokens. Behind the login lockout (429 with
    Retry-After once `MAX_LOGIN_ATTEMPTS` fail) and a per-address limit."""

    throttle_scope = "token"
    serializer_class = TokenObtainInputSerializer


class TokenRefreshView(jwt_views.TokenViewBase):
    """A refresh token → a new access token and a new refresh token; the one given is used up.
    Of concurrent refreshes with one token exactly one succeeds."""

    throttle_scope = "token_refresh"
    serializer_class = TokenRefreshInputSerializer

    @extend_schema(request=TokenRefreshInputSerializer, responses={200: TokenPairOutputSerializer})
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = TokenRefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            access, refresh = services.tokens_rotate(refresh=data.validated_data["refresh"])
        except InvalidToken:
            audit.invalid_token(request)
            raise
        return Response(TokenPairOutputSerializer({"access": access, "refresh": refresh}).data)
