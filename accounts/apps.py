from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The founder's account in the browser: sign-up with email confirmation, sign-in, password
    reset, email and password changes, the data export and the deletion of the account. The
    user model and the lockout are `security`'s; this app is the pages and emails around them."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
