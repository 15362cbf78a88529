"""The shape of a prototype draft and its validation, shared by every generator."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol, TypedDict

BUSINESS_MODELS = ("saas", "service", "product", "course")
# How the product is delivered and billed (the values of projects.models.projects.Delivery and
# Billing). "unspecified" means the founder did not say: copy then claims nothing about it.
UNSPECIFIED = "unspecified"
DELIVERIES = (UNSPECIFIED, "web_app", "mobile_app", "physical", "service", "course")
BILLINGS = (UNSPECIFIED, "subscription", "one_time", "usage")
# What copy may only say when it is true: for each delivery and billing, the phrases that claim
# it (lower case, matched as substrings of the visible copy). The builtin generator's words for
# a kind are checked against the other kinds' phrases by the tests, and a page whose copy holds
# a phrase of a kind the project does not have states something the founder never said.
DELIVERY_CLAIMS = {
    "web_app": ("browser", "nothing to install", "web app", "any computer"),
    "mobile_app": ("your phone", "app store", "mobile app", "on the go"),
    "physical": ("physical product", "in your hands", "shipping", "shipped", "delivered to your door"),
    "service": ("done for you", "done-for-you", "we do the work", "service"),
    "course": ("course", "lesson", "enrol", "step by step"),
}
BILLING_CLAIMS = {
    "subscription": ("a month", "per month", "/month", "/year", "monthly", "yearly", "subscription", "plans start"),
    "one_time": ("one-time", "one time", "pay once", "paid once", "one payment", "lifetime", "no recurring"),
    "usage": ("pay as you go", "what you use", "per use", "usage"),
}
PERIODS = ("month", "year", "one-time")
MAX_PRICE = Decimal("100000")
# (min, max) lengths after stripping, shared by the validator and the schema shown to the model.
TEXT_LIMITS = {"headline": (1, 120), "subheadline": (0, 240), "value_proposition": (1, 1000), "call_to_action": (1, 60)}
FEATURES_COUNT = (3, 8)
FEATURE_MAX = 140
TIERS_COUNT = (1, 4)
TIER_NAME_MAX = 40
TIER_FEATURES_COUNT = (0, 8)
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class IdeaInput:
    name: str
    idea_description: str
    target_audience: str
    price_point: Decimal
    currency: str
    business_model: str
    delivery: str = UNSPECIFIED
    billing: str = UNSPECIFIED
    # Which angle of the copy to write: the same seed gives the same draft, another seed (the
    # next regeneration) another headline, subheadline and button.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.business_model not in BUSINESS_MODELS:
            raise ValueError(f"business_model must be one of {', '.join(BUSINESS_MODELS)}")
        if self.delivery not in DELIVERIES:
            raise ValueError(f"delivery must be one of {', '.join(DELIVERIES)}")
        if self.billing not in BILLINGS:
            raise ValueError(f"billing must be one of {', '.join(BILLINGS)}")


class PricingTier(TypedDict):
    name: str
    price: str
    period: str
    features: list[str]


@dataclass(frozen=True)
class PrototypeDraft:
    headline: str
    subheadline: str
    value_proposition: str
    features: list[str]
    pricing_tiers: list[PricingTier]
    call_to_action: str


@dataclass(frozen=True)
class GenerationResult:
    draft: PrototypeDraft
    generator: str
    fallback_reason: str
    elapsed_ms: int


class ProviderError(Exception):
    """The provider gave no usable draft; the message is a short reason safe to store and log."""


class PrototypeGenerator(Protocol):
    name: str

    def generate(self, idea: IdeaInput) -> PrototypeDraft: ...


# --- Validation ------------------------------------------------------------------------------
# Error messages name the field and the rule but never echo the value: the data may come from a
# model and the message ends up in logs and in the stored fallback reason.


def _items(value: object, where: str, bounds: tuple[int, int]) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    if not bounds[0] <= len(value) <= bounds[1]:
        raise ValueError(f"{where}: expected {bounds[0]}..{bounds[1]} items, got {len(value)}")
    return value


def _text(value: object, where: str, bounds: tuple[int, int]) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {type(value).__name__}")
    text = value.strip()
    if not bounds[0] <= len(text) <= bounds[1]:
        raise ValueError(f"{where}: expected {bounds[0]}..{bounds[1]} characters, got {len(text)}")
    return text


def _texts(value: object, where: str, count: tuple[int, int]) -> list[str]:
    return [_text(item, f"{where}[{i}]", (1, FEATURE_MAX)) for i, item in enumerate(_items(value, where, count))]


def _price(value: object, where: str) -> str:
    # bool is an int subclass; `true` as a price is a model mistake, not 1.00.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{where}: expected a number or a decimal string, got {type(value).__name__}")
    try:
        # Through str() so the float 19.99 becomes Decimal("19.99"), not its binary expansion.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{where}: not a decimal number") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_PRICE:
        raise ValueError(f"{where}: must be between 0 and {MAX_PRICE}")
    return str(abs(amount).quantize(_CENTS, rounding=ROUND_HALF_UP))  # abs() turns -0 into 0


def _tier(value: object, where: str) -> PricingTier:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    missing = [key for key in ("name", "price", "period") if key not in value]
    if missing:
        raise ValueError(f"{where}: missing keys: {', '.join(missing)}")
    period = _text(value["period"], f"{where}.period", (1, 20)).lower()
    if period not in PERIODS:
        raise ValueError(f"{where}.period: expected one of {', '.join(PERIODS)}")
    return {
        "name": _text(value["name"], f"{where}.name", (1, TIER_NAME_MAX)),
        "price": _price(value["price"], f"{where}.price"),
        "period": period,
        # Optional because an empty list is valid anyway.
        "features": _texts(value.get("features", []), f"{where}.features", TIER_FEATURES_COUNT),
    }


def validate_draft(data: object) -> PrototypeDraft:
    """Check untrusted draft data (a model's JSON) against the schema and normalise it.

    Strings are stripped, prices become 2-place decimal strings, periods lower case; unknown keys
    are ignored. Raises ValueError naming the first offending field.
    """
    if not isinstance(data, dict):
        raise ValueError(f"draft: expected an object, got {type(data).__name__}")
    missing = [key for key in (*TEXT_LIMITS, "features", "pricing_tiers") if key not in data]
    if missing:
        raise ValueError(f"draft: missing keys: {', '.join(missing)}")
    texts = {key: _text(data[key], key, bounds) for key, bounds in TEXT_LIMITS.items()}
    tiers = _items(data["pricing_tiers"], "pricing_tiers", TIERS_COUNT)
    return PrototypeDraft(
        **texts,
        features=_texts(data["features"], "features", FEATURES_COUNT),
        pricing_tiers=[_tier(tier, f"pricing_tiers[{i}]") for i, tier in enumerate(tiers)],
    )
