"""The landing page editor's forms: the page's copy, look and call to action, its pricing tiers
(repeated rows), and a variant's copy.

The forms parse what the browser sends into the shapes the services take (a list of lines, a
list of tier dicts); the services clean and check the values (`projects.services.pages`), and
their refusals are shown beside the fields (`mvpvalidator.forms.add_service_errors`)."""

from decimal import Decimal
from typing import Any

from django import forms

from projects.models import PRICE_MAX, CtaKind, FontPairing, LandingPage
from projects.services.content import FEATURE_MAX_LENGTH, MAX_FEATURES, MAX_PRICING_TIERS

TIER_PERIODS = (("month", "per month"), ("year", "per year"), ("one-time", "one-time"))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _check_lines(lines: list[str], *, what: str) -> list[str]:
    if len(lines) > MAX_FEATURES:
        raise forms.ValidationError(f"At most {MAX_FEATURES} {what}, one per line.")
    too_long = [line for line in lines if len(line) > FEATURE_MAX_LENGTH]
    if too_long:
        raise forms.ValidationError(f"Keep each line under {FEATURE_MAX_LENGTH} characters: “{too_long[0][:40]}…”.")
    return lines


class ColorInput(forms.TextInput):
    input_type = "color"


class CopyFields(forms.Form):
    """The fields a variant may change too (`VARIANT_FIELDS`)."""

    headline = forms.CharField(max_length=120)
    subheadline = forms.CharField(max_length=240, required=False)
    value_proposition = forms.CharField(
        label="Value proposition",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The body under the headline. Simple formatting (bold, italics, links, lists) is kept.",
    )
    features = forms.CharField(
        label="Benefits",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"One per line, up to {MAX_FEATURES}.",
    )
    cta_text = forms.CharField(label="Call to action text", max_length=60)
    preorder_price = forms.DecimalField(
        label="Pre-order price",
        required=False,
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=PRICE_MAX,
        help_text="What the pre-order button asks for (nobody is charged).",
    )

    def clean_features(self) -> list[str]:
        return _check_lines(_lines(self.cleaned_data["features"]), what="benefits")


class PageForm(CopyFields):
    cta_kind = forms.ChoiceField(label="Call to action", choices=CtaKind.choices, widget=forms.RadioSelect)
    qualifying_question = forms.CharField(
        label="Qualifying question",
        max_length=200,
        required=False,
        help_text="Asked under the email field, answer optional. Leave empty for none.",
    )
    double_opt_in = forms.BooleanField(label="Double opt-in: confirm each email address by a link", required=False)
    consent_text = forms.CharField(
        label="Consent checkbox text",
        max_length=200,
        required=False,
        help_text="Leave empty for “Email me about this product”.",
    )
    accent_color = forms.CharField(label="Accent colour", max_length=7, widget=ColorInput)
    accent_color_text = forms.CharField(
        label="Or type a colour",
        max_length=20,
        required=False,
        help_text="As # and six hex digits, e.g. #2563eb. When filled in, it wins over the picker.",
        widget=forms.TextInput(attrs={"placeholder": "#2563eb", "autocomplete": "off"}),
    )
    font_pairing = forms.ChoiceField(label="Fonts", choices=FontPairing.choices, widget=forms.RadioSelect)
    slug = forms.SlugField(
        label="Address", max_length=80, help_text="The end of the public link: letters, numbers and hyphens."
    )

    @classmethod
    def initial_for(cls, page: LandingPage) -> dict[str, Any]:
        return {
            "headline": page.headline,
            "subheadline": page.subheadline,
            "value_proposition": page.value_proposition,
            "features": "\n".join(page.features),
            "cta_text": page.cta_text,
            "cta_kind": page.cta_kind,
            "preorder_price": page.preorder_price,
            "qualifying_question": page.qualifying_question,
            "double_opt_in": page.double_opt_in,
            "consent_text": page.consent_text,
            "accent_color": page.accent_color,
            "font_pairing": page.font_pairing,
            "slug": page.slug,
        }

    def page_data(self, tiers: list[dict[str, Any]]) -> dict[str, Any]:
        """What `landing_page_update` takes (a valid form's)."""
        data = {
            name: self.cleaned_data[name]
            for name in (
                "headline",
                "subheadline",
                "value_proposition",
                "features",
                "cta_text",
                "cta_kind",
                "preorder_price",
                "qualifying_question",
                "double_opt_in",
                "consent_text",
                "font_pairing",
                "slug",
            )
        }
        # The typed colour, when there is one, is what the founder meant; the service checks it.
        data["accent_color"] = self.cleaned_data["accent_color_text"].strip() or self.cleaned_data["accent_color"]
        data["pricing_tiers"] = tiers
        return data


class TierForm(forms.Form):
    """One pricing tier; a row left empty is no tier."""

    name = forms.CharField(max_length=40, required=False)
    price = forms.DecimalField(required=False, max_digits=9, decimal_places=2, min_value=Decimal("0"))
    period = forms.ChoiceField(choices=TIER_PERIODS, required=False)
    features = forms.CharField(
        label="What it includes", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One per line."
    )

    def clean_features(self) -> list[str]:
        return _check_lines(_lines(self.cleaned_data["features"]), what="lines per tier")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        name, price = cleaned.get("name"), cleaned.get("price")
        filled = bool(name) or price is not None or bool(cleaned.get("features"))
        if filled and not name:
            self.add_error("name", "Give the tier a name (or empty the row).")
        if filled and price is None and "price" not in self.errors:
            self.add_error("price", "Give the tier a price (0 for free).")
        return cleaned

    def tier(self) -> dict[str, Any] | None:
        if not self.cleaned_data.get("name"):
            return None
        return {
            "name": self.cleaned_data["name"],
            "price": self.cleaned_data["price"],
            "period": self.cleaned_data["period"] or "month",
            "features": self.cleaned_data["features"],
        }


TierFormSet = forms.formset_factory(
    TierForm, extra=0, max_num=MAX_PRICING_TIERS, absolute_max=MAX_PRICING_TIERS, validate_max=True
)


def tier_formset(*, page: LandingPage, data: Any = None) -> Any:
    """The page's tiers and empty rows up to the most a page shows."""
    initial = [
        {
            "name": tier.get("name", ""),
            "price": tier.get("price"),
            "period": tier.get("period", "month"),
            "features": "\n".join(tier.get("features", [])),
        }
        for tier in page.pricing_tiers[:MAX_PRICING_TIERS]
    ]
    initial += [{"period": "month"}] * (MAX_PRICING_TIERS - len(initial))
    return TierFormSet(data, initial=initial, prefix="tiers")


def formset_tiers(formset: Any) -> list[dict[str, Any]]:
    return [tier for form in formset.forms if (tier := form.tier()) is not None]


class VariantForm(CopyFields):
    name = forms.CharField(label="Variant name", max_length=120)

    field_order = ["name"]

    def __init__(self, *args: Any, page: LandingPage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if page.cta_kind != CtaKind.PREORDER:
            # Only a pre-order page asks for a price.
            del self.fields["preorder_price"]

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name != "name"}
