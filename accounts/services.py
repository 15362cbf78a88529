"""Writes of the founder's account: sign-up and its confirmation, the account's settings, the
email change and the deletion. The account itself (`security.User`, its password rules and its
token version) is `security`'s; emails leave once the write has committed."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts import deletion, emails, tokens
from security import services as security_services
from security.models import User, normalize_email
from security.sanitize import sanitize_text

WRONG_PASSWORD_MESSAGE = "Your password was entered incorrectly."  # noqa: S105 - a message, not a secret
EMAIL_TAKEN_MESSAGE = "Another account uses this email address."


@transaction.atomic
def account_signup(*, email: str, name: str, password: str, base_url: str) -> User:
    """A founder's account, unconfirmed until the emailed link is clicked; the link is sent."""
    user = security_services.user_create(email=email, name=name, password=password)
    user.email_confirmed = False
    user.save(update_fields=["email_confirmed"])
    transaction.on_commit(lambda: emails.send_signup_confirmation(user=user, base_url=base_url))
    return user


def account_confirmation_resend(*, email: str, base_url: str) -> None:
    """Send the confirmation link again to the unconfirmed account of `email`, if there is one.
    Says nothing either way: whether an address has an account is not told here."""
    user = User.objects.filter(email=normalize_email(email), is_active=True, email_confirmed=False).first()
    if user is not None:
        emails.send_signup_confirmation(user=user, base_url=base_url)


@transaction.atomic
def account_confirm(*, token: str) -> User:
    """Confirm the address of the account a sign-up link was made for; the link dies with it."""
    link = tokens.read_token(purpose=tokens.SIGNUP_CONFIRM, token=token)
    user = User.objects.select_for_update().get(pk=link.user.pk)
    if user.email_confirmed:  # used meanwhile by a concurrent click
        raise tokens.LinkInvalid()
    user.email_confirmed = True
    user.save(update_fields=["email_confirmed"])
    return user


@transaction.atomic
def account_update(*, user: User, name: str, signup_digest: bool) -> User:
    user.name = sanitize_text(name, field="user_name")
    user.signup_digest = signup_digest
    user.full_clean(exclude=["password", "email"], validate_unique=False)
    user.save(update_fields=["name", "signup_digest"])
    return user


def _check_password(user: User, password: str) -> None:
    if not user.check_password(password):
        raise ValidationError({"password": [WRONG_PASSWORD_MESSAGE]})


@transaction.atomic
def account_email_change_request(*, user: User, password: str, new_email: str, base_url: str) -> None:
    """Ask to sign in with `new_email`: a link goes to the new address (the change happens when
    it is clicked) and a notice to the current one. An address another account uses is refused,
    and nothing is sent."""
    _check_password(user, password)
    new_email = normalize_email(new_email)
    try:
        validate_email(new_email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    if new_email == user.email:
        raise ValidationError({"email": ["This is already your email address."]})
    # The account's owner (their password checked) may learn that an address is taken: it is
    # what they must know to pick another, and this form is rate limited.
    if User.objects.filter(email=new_email).exists():
        raise ValidationError({"email": [EMAIL_TAKEN_MESSAGE]})
    old_email = user.email
    transaction.on_commit(
        lambda: emails.send_email_change(user=user, old_email=old_email, new_email=new_email, base_url=base_url)
    )


@transaction.atomic
def account_email_change_confirm(*, token: str) -> User:
    """Move the account to the address an email change link was sent to; the link dies with the
    change (it was made for the previous address). Every session and token of the account ends
    with it (whoever had them knew the account by its old address); the view keeps the clicking
    browser signed in when it is the account's own."""
    link = tokens.read_token(purpose=tokens.EMAIL_CHANGE, token=token)
    user = User.objects.select_for_update().get(pk=link.user.pk)
    new_email = normalize_email(str(link.claims.get("new", "")))
    if user.email != link.user.email:  # changed meanwhile by a concurrent click
        raise tokens.LinkInvalid()
    user.email = new_email
    user.email_confirmed = True  # the click proves the new address is theirs
    user.end_sessions()
    try:
        with transaction.atomic():  # a savepoint: the address may have been taken since
            user.save(update_fields=["email", "email_confirmed", "token_version"])
    except IntegrityError as exc:
        raise tokens.LinkInvalid("Another account has taken this email address since the link was sent.") from exc
    return user


@transaction.atomic
def account_delete(*, user: User, password: str, confirm_email: str) -> None:
    """Delete the account and everything it owns (projects, pages, signups: by cascade). The
    founder proves it is them (the password) and that they mean it (the address, typed)."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(password):
        errors["password"] = [WRONG_PASSWORD_MESSAGE]
    if normalize_email(confirm_email) != user.email:
        errors["confirm_email"] = ["Type your account's email address exactly to confirm."]
    if errors:
        raise ValidationError(errors)
    deletion.before_delete(user)
    User.objects.filter(pk=user.pk).delete()
