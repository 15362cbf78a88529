"""The founder's form for creating and editing a project. It checks the shape of each field so
the founder sees every mistake at once; the services check the rules again (the API calls them
too) and their refusals land beside the same fields."""

from decimal import Decimal
from typing import Any

from django import forms
from django.db import models

from projects.models.projects import (
    IDEA_MAX_LENGTH,
    IDEA_MIN_LENGTH,
    PRICE_MAX,
    Billing,
    BusinessModel,
    Currency,
    Delivery,
    Project,
)

# The form's fields, in the order the founder fills them; each is a field of the project and an
# argument of `project_create` / a key `project_update` accepts.
FIELDS = (
    "name",
    "idea_description",
    "target_audience",
    "business_model",
    "price_point",
    "currency",
    "billing",
    "delivery",
    "contact_name",
    "contact_email",
    "contact_address",
)


def _max(name: str) -> int:
    """The model's own length limit of a text field: one definition for the form and the table."""
    field = Project._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"Project.{name} is not a text field with a length limit")
    return field.max_length


class ProjectForm(forms.Form):
    name = forms.CharField(
        max_length=_max("name"),
        help_text="A working title; only you see it.",
    )
    idea_description = forms.CharField(
        label="The idea",
        min_length=IDEA_MIN_LENGTH,
        max_length=IDEA_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What it does and the problem it solves, in a few sentences. The generated copy starts here.",
    )
    target_audience = forms.CharField(
        label="Who it is for",
        max_length=_max("target_audience"),
        required=False,
        help_text="For example: freelance designers who invoice monthly.",
    )
    business_model = forms.ChoiceField(
        choices=[("", "Choose one"), *BusinessModel.choices],
        help_text="How the numbers are judged: a subscription and a one-off course convert differently.",
    )
    price_point = forms.DecimalField(
        label="Price",
        min_value=Decimal("0"),
        max_value=PRICE_MAX,
        max_digits=10,
        decimal_places=2,
        help_text="What you plan to charge (per month for a subscription).",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(choices=Currency.choices, initial=Currency.USD)
    billing = forms.ChoiceField(
        choices=Billing.choices,
        initial=Billing.UNSPECIFIED,
        help_text="How customers pay. Left as “Not stated”, the page claims nothing about it.",
    )
    delivery = forms.ChoiceField(
        choices=Delivery.choices,
        initial=Delivery.UNSPECIFIED,
        help_text="How the product reaches them. Left as “Not stated”, the page claims nothing about it.",
    )
    contact_name = forms.CharField(
        label="Contact name",
        max_length=_max("contact_name"),
        required=False,
        help_text="Who runs this test, as the privacy notice names them. Blank: your account name.",
    )
    contact_email = forms.EmailField(
        label="Contact email",
        max_length=_max("contact_email"),
        required=False,
        help_text="Where visitors can ask about their data. Blank: your sign-in email.",
    )
    contact_address = forms.CharField(
        label="Postal address",
        max_length=_max("contact_address"),
        required=False,
        help_text="Some countries require one in a privacy notice.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, project: Project) -> dict[str, Any]:
        return {name: getattr(project, name) for name in FIELDS}

    def changed_values(self) -> dict[str, Any]:
        """The cleaned fields whose value differs from the initial one: what an edit sends to
        `project_update` (the other fields stay as they are)."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in FIELDS}
