"""Server-rendered forms and the services behind them: one way to put a service's refusal beside
the field it is about."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from mvpvalidator.exceptions import ApplicationError


def add_service_errors(form: forms.BaseForm, exc: ValidationError | ApplicationError) -> None:
    """Show a service's refusal in `form`: a `ValidationError` keyed by field goes beside each
    field the form has (the rest, and an `ApplicationError`, at the top of the form).

    A service validates again what the form checked (the API and the commands call it too), so
    its message, not a second copy of the rule in the form, is what the founder reads."""
    if isinstance(exc, ApplicationError):
        form.add_error(None, exc.message)
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in errors:
            form.add_error(target if field != NON_FIELD_ERRORS else None, message)
