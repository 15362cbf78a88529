"""The founder's forms for a project's copy: comparing two versions and editing one.

Lengths and counts come from the draft rules (projects.generation.drafts), so the browser's
hints match what the service enforces; the service (prototype_update) is what decides."""

from decimal import Decimal
from typing import Any, cast

from django import forms

from projects.generation.drafts import FEATURE_MAX, MAX_PRICE, PERIODS, TEXT_LIMITS, TIER_NAME_MAX, TIERS_COUNT
from projects.models import Prototype


class DescribedErrorsMixin:
    """Ties each field's error list to its input (aria-describedby, with the help text) so a
    screen reader reads the message with the field; Django marks it aria-invalid itself."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        form = cast(forms.BaseForm, self)
        for name in form.errors:
            if name in form.fields:
                bound = form[name]
                ids = [f"{bound.auto_id}_errors"]
                if bound.help_text:
                    ids.insert(0, f"{bound.auto_id}_helptext")
                form.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class PrototypeCompareForm(DescribedErrorsMixin, forms.Form):
    """Which two versions to put side by side (`?a=&b=`)."""

    a = forms.TypedChoiceField(label="Left", coerce=int)
    b = forms.TypedChoiceField(label="Right", coerce=int)

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v, f"Version {v}") for v in versions]
        self.fields["a"].choices = choices  # type: ignore[attr-defined]
        self.fields["b"].choices = choices  # type: ignore[attr-defined]


def _text_field(
    name: str, label: str, *, widget: forms.Widget | None = None, help_text: str = "", missing: str = ""
) -> forms.CharField:
    low, high = TEXT_LIMITS[name]
    return forms.CharField(
        label=label,
        required=low > 0,
        max_length=high,
        widget=widget,
        help_text=help_text,
        strip=True,
        error_messages={"required": missing or f"Write a {label.lower()}."},
    )


class PrototypeEditForm(DescribedErrorsMixin, forms.Form):
    headline = _text_field("headline", "Headline")
    subheadline = _text_field("subheadline", "Subheadline")
    value_proposition = _text_field(
        "value_proposition",
        "Value proposition",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Simple formatting is kept (paragraphs, bold, italics, lists, links); anything else is removed.",
    )
    features = forms.CharField(
        label="Features",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"One per line, up to {FEATURE_MAX} characters each.",
        error_messages={"required": "List the features, one per line."},
    )
    call_to_action = _text_field(
        "call_to_action", "Call to action", help_text="The button's words.", missing="Write the button's words."
    )

    @classmethod
    def initial_for(cls, prototype: Prototype) -> dict[str, Any]:
        return {
            "headline": prototype.headline,
            "subheadline": prototype.subheadline,
            "value_proposition": prototype.value_proposition,
            "features": "\n".join(prototype.features),
            "call_to_action": prototype.call_to_action,
        }

    def clean_features(self) -> list[str]:
        return _lines(self.cleaned_data["features"])


class PricingTierForm(DescribedErrorsMixin, forms.Form):
    """One row of the pricing table; a row left (or made) empty is no tier."""

    name = forms.CharField(label="Name", required=False, max_length=TIER_NAME_MAX)
    price = forms.DecimalField(
        label="Price", required=False, min_value=Decimal(0), max_value=MAX_PRICE, decimal_places=2
    )
    period = forms.ChoiceField(label="Period", required=False, choices=[("", "—"), *[(p, p) for p in PERIODS]])
    features = forms.CharField(
        label="What it includes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = any(data.get(key) not in (None, "") for key in ("name", "price", "period", "features"))
        data["empty"] = not filled
        if filled:
            for key, message in (
                ("name", "Give the tier a name."),
                ("price", "Give the tier a price (0 for free)."),
                ("period", "Choose how often it is paid."),
            ):
                if data.get(key) in (None, "") and key not in self.errors:
                    self.add_error(key, message)
        return data

    def tier(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "price": str(data["price"]),
            "period": data["period"],
            "features": _lines(data.get("features") or ""),
        }


_TIERS_MAX = TIERS_COUNT[1]


def pricing_tier_formset(prototype: Prototype, data: Any = None) -> "forms.BaseFormSet[PricingTierForm]":
    """The tiers as rows, with one empty row to add a tier while there is room."""
    initial = [
        {
            "name": tier.get("name", ""),
            "price": tier.get("price", ""),
            "period": tier.get("period", ""),
            "features": "\n".join(tier.get("features", [])),
        }
        for tier in prototype.pricing_tiers
    ]
    formset_class = forms.formset_factory(
        PricingTierForm,
        extra=1 if len(initial) < _TIERS_MAX else 0,
        max_num=_TIERS_MAX,
        validate_max=True,
    )
    return formset_class(data=data, initial=initial, prefix="tiers")


def prototype_edit_data(form: PrototypeEditForm, tiers: "forms.BaseFormSet[PricingTierForm]") -> dict[str, Any]:
    """What the service takes, from two valid forms."""
    return {
        **{key: form.cleaned_data[key] for key in ("headline", "subheadline", "value_proposition", "call_to_action")},
        "features": form.cleaned_data["features"],
        "pricing_tiers": [row.tier() for row in tiers.forms if not row.cleaned_data.get("empty", True)],
    }
