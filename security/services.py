"""Writes of the security app: users and tokens."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from mvpvalidator.exceptions import ApplicationError
from security.models import User, normalize_email

DUPLICATE_EMAIL_MESSAGE = "An account with this email address already exists."


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create an account; the password must pass the configured validators."""
    user = User(email=normalize_email(email), name=name.strip(), is_staff=is_staff, is_superuser=is_superuser)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if "email" not in errors and User.objects.filter(email=user.email).exists():
        errors["email"] = [DUPLICATE_EMAIL_MESSAGE]
    if errors:
        raise ValidationError(errors)

    user.set_password(password)
    try:
        # A savepoint, so a concurrent duplicate leaves the outer transaction usable.
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationError({"email": [DUPLICATE_EMAIL_MESSAGE]}) from exc
    return user


def refresh_token_blacklist(*, user: User, refresh: str) -> None:
    """Log out: the refresh token (which must be the caller's) can no longer be used."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise ValidationError({"refresh": [str(exc)]}) from exc
    if str(token.get("user_id")) != str(user.pk):
        raise ApplicationError("This refresh token does not belong to you.", code="token_not_owned")
    token.blacklist()


@transaction.atomic
def user_reset_password(*, user: User, password: str) -> User:
    """Set a new password (validated) and reactivate the account."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user
