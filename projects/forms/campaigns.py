"""The campaign screens' forms: a campaign's settings, one day's spend, a spend file, and the
tagged link's page and ad name.

They check what the API's serializers check (`projects.api.campaigns`), with the project's
currency's decimals for amounts; the services check again, and their refusals are shown beside the
fields (`mvpvalidator.forms.add_service_errors`)."""

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import slugify

from projects.analysis import spend_csv
from projects.analysis.money import minor_digits
from projects.analysis.tagged_links import UTM_CONTENT_MAX_LENGTH
from projects.models import Campaign, CampaignPlatform, LandingPage
from projects.services.campaigns import CAMPAIGN_FIELDS, spend_today

AMOUNT_MAX = Decimal("1e9")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _places(currency: str) -> int:
    # The model keeps two decimals: a currency with more (the dinar's three) is entered to the cent.
    return min(minor_digits(currency), 2)


def _check_amount(value: Decimal | None, currency: str) -> Decimal | None:
    if value is None:
        return value
    places = _places(currency)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            raise forms.ValidationError(f"{currency} amounts have no decimals: enter a whole number.")
        raise forms.ValidationError(f"{currency} amounts have at most {places} decimals.")
    return value


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="A name for you, e.g. “Google search, autumn”.")
    platform = forms.ChoiceField(label="Ad platform", choices=CampaignPlatform.choices)
    budget = forms.DecimalField(
        label="Budget",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=AMOUNT_MAX,
        help_text="What you plan to spend in all.",
    )
    starts_on = forms.DateField(label="Starts", required=False, widget=DateInput)
    ends_on = forms.DateField(label="Ends", required=False, widget=DateInput)
    utm_campaign = forms.CharField(
        label="Campaign tag (utm_campaign)",
        max_length=100,
        required=False,
        help_text="What your ads' links carry to tell this campaign's visitors apart: letters, numbers, "
        "hyphens and underscores. Left empty, it is made from the name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["budget"].help_text = f"What you plan to spend in all, in {currency}."
        self.fields["budget"].widget.attrs["step"] = str(Decimal(1).scaleb(-_places(currency)))

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict[str, Any]:
        return {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}

    def clean_budget(self) -> Decimal | None:
        return _check_amount(self.cleaned_data.get("budget"), self.currency)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The end comes before the start.")
        raw_tag = data.get("utm_campaign") or ""
        tag = slugify(raw_tag or data.get("name") or "")[:100]
        if not tag and "name" in data:
            # The service's rule: a tag is a slug; one made of no letter or number is none.
            self.add_error("utm_campaign", "Enter the utm_campaign value the ads carry (letters, numbers, hyphens).")
        data["utm_campaign"] = tag
        return data

    def campaign_data(self) -> dict[str, Any]:
        """What `campaign_create` and `campaign_update` take (a valid form's)."""
        return {name: self.cleaned_data[name] for name in CAMPAIGN_FIELDS}


class SpendDayForm(forms.Form):
    """One day of spend, as the API's `SpendRowSerializer` checks it."""

    date = forms.DateField(label="Day", widget=DateInput)
    spend = forms.DecimalField(
        label="Spend", max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=AMOUNT_MAX
    )
    clicks = forms.IntegerField(label="Clicks", min_value=0, max_value=10**15, required=False)
    impressions = forms.IntegerField(label="Impressions", min_value=0, max_value=10**15, required=False)

    prefix = "day"

    def __init__(
        self,
        *args: Any,
        currency: str,
        starts_on: dt.date | None = None,
        ends_on: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["spend"].widget.attrs["step"] = str(Decimal(1).scaleb(-_places(currency)))
        self.fields["spend"].help_text = f"In {currency}, as the ad platform reports it."
        # The date picker's bounds only: the rules themselves (`spend_csv.day_error`) are the
        # service's, `spend_import`, whose refusal the view puts beside this field.
        today, _ = spend_today()
        oldest = today - dt.timedelta(days=spend_csv.OLDEST_SPEND_DAYS)
        self.fields["date"].widget.attrs["min"] = max(oldest, starts_on or oldest).isoformat()
        self.fields["date"].widget.attrs["max"] = min(today, ends_on or today).isoformat()

    def clean_spend(self) -> Decimal | None:
        return _check_amount(self.cleaned_data.get("spend"), self.currency)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["clicks"] = data.get("clicks") or 0
        data["impressions"] = data.get("impressions") or 0
        if data["impressions"] and data["clicks"] > data["impressions"]:
            self.add_error("clicks", "More clicks than impressions.")
        return data

    def row(self) -> spend_csv.SpendRow:
        data = self.cleaned_data
        return spend_csv.SpendRow(
            line=1, date=data["date"], spend=data["spend"], impressions=data["impressions"], clicks=data["clicks"]
        )


class SpendFileForm(forms.Form):
    file = forms.FileField(
        label="Spend file (CSV)",
        help_text=f"At most {spend_csv.MAX_BYTES // 1000} kB and {spend_csv.MAX_ROWS:,} days.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    prefix = "upload"

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if (upload.size or 0) > spend_csv.MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {spend_csv.MAX_BYTES // 1000} kB: split it.")
        return upload

    def content(self) -> bytes:
        upload: UploadedFile = self.cleaned_data["file"]
        return cast(bytes, upload.read(spend_csv.MAX_BYTES + 1))


class LinkForm(forms.Form):
    """The tagged link's choices (a GET form): which published page, and the ad's name."""

    page = forms.TypedChoiceField(label="Page", coerce=int, required=False)
    utm_content = forms.CharField(
        label="Ad name (utm_content)",
        max_length=UTM_CONTENT_MAX_LENGTH,
        required=False,
        help_text="Optional: tells your ads apart in the figures, e.g. “video-1”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, pages: list[LandingPage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages = pages
        cast(forms.TypedChoiceField, self.fields["page"]).choices = [
            (p.pk, f"{p.headline} (/p/{p.slug}/)") for p in pages
        ]

    def chosen(self) -> tuple[LandingPage | None, str]:
        """The page (the first when none or an unknown one is asked) and the ad's name."""
        if not self.pages:
            return None, ""
        valid = self.is_valid()
        by_pk = {p.pk: p for p in self.pages}
        page = by_pk.get(self.cleaned_data.get("page") or 0) if valid else None
        content = self.cleaned_data.get("utm_content", "") if valid else ""
        return page or self.pages[0], content
