"""The founder's forms of the report screens: the test card (before it locks) and the choice of two kept reports
to compare. Each checks the shape of its fields so every mistake shows at once beside its field; the service
(`test_card_update`) checks the rules again and its refusals land beside the same fields."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from projects.analysis.thresholds import CHANNELS, OVERRIDABLE, THRESHOLDS, Threshold
from projects.models.reports import ReportSnapshot, TestCard

# The bars a founder may move before the lock (projects.analysis.thresholds.OVERRIDABLE), in the order the card
# reads: (key, label, what it means in plain words, glossary entry, entered as a percentage).
BARS: tuple[tuple[str, str, str, str, bool], ...] = (
    (
        "signup_bar",
        "Sign-up rate to beat",
        "The share of cold visitors who must leave their email for the idea to count as wanted. The default depends "
        "on the channel: searchers looking for a fix sign up more readily than people scrolling a feed.",
        "conversion-rate",
        True,
    ),
    (
        "intent_bar",
        "Pre-order rate to beat",
        "When the page offers a pre-order: the share of signups who must also pre-order. Paying for something that "
        "does not exist yet is a big step, so the bar is low.",
        "pre-order-rate",
        True,
    ),
    (
        "quality_bar",
        "Confirmation rate to beat",
        "The share of signups who must click the link in the confirmation email. Below it, many signups are typos, "
        "throwaway addresses or bots.",
        "confirmation-rate",
        True,
    ),
    (
        "organic_bar",
        "Word-of-mouth share to beat",
        "The share of visitors who must arrive through someone else's recommendation. A small supporting sign that "
        "people pass the idea on.",
        "word-of-mouth-share",
        True,
    ),
    (
        "gross_margin",
        "Gross margin",
        "What is left of the price after the cost of delivering it (hosting, labour, goods, fees). It sets what a "
        "customer is worth, and so what a signup may cost.",
        "allowable-cost",
        True,
    ),
    (
        "ltv_periods",
        "Billing periods a customer pays",
        "How many times a customer pays the price: months for a subscription, purchases otherwise. More periods "
        "make a customer worth more.",
        "allowable-cost",
        False,
    ),
    (
        "ltv_cac_ratio",
        "Customer worth ÷ cost to win them",
        "How many times more a customer must be worth than what winning them costs. 3 is the common rule: the rest "
        "pays for building the product and running the business.",
        "allowable-cost",
        False,
    ),
    (
        "signup_to_customer",
        "Signups who become customers",
        "The share of signups expected to pay once the product exists. It turns the most a customer may cost into "
        "the most a signup may cost.",
        "allowable-cost",
        True,
    ),
)
PERCENT_BARS = frozenset(key for key, *_, percent in BARS if percent)
assert {key for key, *_ in BARS} == set(OVERRIDABLE), "every overridable bar has its field"


def plain_source(threshold: Threshold) -> str:
    """Where a default comes from, without the code's own names."""
    if threshold.source.startswith("product decision"):
        return "MVP Validator's own rule, set with the demand score."
    if threshold.source.startswith("projects.analysis"):
        return "MVP Validator's own rule, the same as for A/B tests."
    return threshold.source


def bar_text(key: str, value: float) -> str:
    """A bar's value as the card shows it: a share as a percentage, a count or ratio as a number."""
    return f"{value * 100:.1f}%" if key in PERCENT_BARS else f"{value:g}"


def default_key(key: str, *, channel: str, business_model: str) -> str:
    """The THRESHOLDS entry a bar's default comes from, for the card's channel and the project's business model."""
    if key == "signup_bar":
        return f"signup_bar.{channel}"
    if key in ("gross_margin", "ltv_periods"):
        return f"{key}.{business_model}"
    return key


def _bounds_text(key: str) -> str:
    low, high, low_in, high_in = OVERRIDABLE[key]
    scale = 100 if key in PERCENT_BARS else 1
    unit = "%" if key in PERCENT_BARS else ""
    above = f"at least {low * scale:g}{unit}" if low_in else f"more than {low * scale:g}{unit}"
    below = f"at most {high * scale:g}{unit}" if high_in else f"less than {high * scale:g}{unit}"
    return f"{above} and {below}"


@dataclass(frozen=True)
class Bar:
    """One bar of the form as the page shows it: the field, what it means, its default and where that comes from."""

    key: str
    field: forms.BoundField
    meaning: str
    glossary: str
    default: str
    source: str
    why: str
    allowed: str


class TestCardForm(forms.Form):
    """Channel, expected cost per click and each overridable bar; a blank bar keeps its default."""

    __test__ = False  # not a pytest test class despite the name

    channel = forms.ChoiceField(
        label="Where the cold visitors come from",
        required=False,
        choices=[("", "Automatic (from your traffic)")] + list(CHANNELS.items()),
        help_text="The sign-up rate to beat depends on it. Automatic: the channel most cold visitors come by.",
    )
    expected_cpc = forms.DecimalField(
        label="Expected cost per click",
        required=False,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="What you expect to pay an ad platform per click, if you will run ads. Leave blank: the report "
        "uses the cost per click your campaigns actually record.",
    )

    def __init__(self, *args: Any, stored: TestCard | None, channel: str, business_model: str, **kwargs: Any):
        initial: dict[str, Any] = {}
        if stored is not None:
            initial["channel"] = stored.channel
            initial["expected_cpc"] = stored.expected_cpc
            for key, value in (stored.overrides or {}).items():
                if key in OVERRIDABLE:
                    number = float(value) * (100 if key in PERCENT_BARS else 1)
                    initial[key] = Decimal(f"{number:.4g}")
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.card_channel, self.business_model = channel, business_model
        for key, label, _meaning, _glossary, percent in BARS:
            self.fields[key] = forms.DecimalField(
                label=label + (" (%)" if percent else ""),
                required=False,
                max_digits=9,
                decimal_places=4,
                help_text=f"Blank keeps the default. Allowed: {_bounds_text(key)}.",
            )

    def bars(self) -> list[Bar]:
        rows = []
        for key, _label, meaning, glossary, _percent in BARS:
            threshold = THRESHOLDS[default_key(key, channel=self.card_channel, business_model=self.business_model)]
            rows.append(
                Bar(
                    key=key,
                    field=self[key],
                    meaning=meaning,
                    glossary=glossary,
                    default=bar_text(key, threshold.value),
                    source=plain_source(threshold),
                    why=threshold.why,
                    allowed=_bounds_text(key),
                )
            )
        return rows

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for key in OVERRIDABLE:
            value = cleaned.get(key)
            if value is None:
                continue
            number = float(value) / (100 if key in PERCENT_BARS else 1)
            low, high, low_in, high_in = OVERRIDABLE[key]
            if not ((number >= low if low_in else number > low) and (number <= high if high_in else number < high)):
                self.add_error(key, f"Must be {_bounds_text(key)}.")
        return cleaned

    def card_data(self) -> dict[str, Any]:
        """The service's `data` (`test_card_update`): channel, expected cost per click, the bars set (as shares)."""
        overrides = {
            key: float(value) / (100 if key in PERCENT_BARS else 1)
            for key in OVERRIDABLE
            if (value := self.cleaned_data.get(key)) is not None
        }
        return {
            "channel": self.cleaned_data["channel"] or "",
            "expected_cpc": self.cleaned_data["expected_cpc"],
            "overrides": overrides,
        }


class CompareForm(forms.Form):
    """Two of the project's kept reports (the report page's small form; `reports/compare?a=&b=`)."""

    def __init__(self, *args: Any, snapshots: list[ReportSnapshot], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [(s.pk, snapshot_label(s)) for s in snapshots]
        a = forms.TypedChoiceField(label="Earlier report", coerce=int, choices=choices)
        b = forms.TypedChoiceField(label="Later report", coerce=int, choices=choices)
        self.fields["a"], self.fields["b"] = a, b
        if len(snapshots) >= 2 and not self.is_bound:
            self.initial = {"a": snapshots[1].pk, "b": snapshots[0].pk}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("a") is not None and cleaned.get("a") == cleaned.get("b"):
            # Beside the second choice (tied to its select), not above the form.
            self.add_error("b", ValidationError("Pick two different reports to compare.", code="same"))
        return cleaned


def snapshot_label(snapshot: ReportSnapshot) -> str:
    score = f", score {snapshot.score}" if snapshot.score is not None else ""
    when = f"{snapshot.created_at.day} {snapshot.created_at:%b %Y %H:%M}"  # short enough for a phone's select
    return f"{when}: {snapshot.verdict}{score}"
