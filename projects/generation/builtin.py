"""The builtin generator: deterministic landing-page copy from the idea, with no network."""

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from projects.analysis.money import price_tag
from projects.generation.drafts import (
    _CENTS,
    FEATURE_MAX,
    MAX_PRICE,
    TEXT_LIMITS,
    IdeaInput,
    PricingTier,
    PrototypeDraft,
)

T = TypeVar("T")

# --- Builtin generator -----------------------------------------------------------------------
# The copy says only what the founder gave: the name, the audience, the description, the price,
# and how the product is delivered and billed when the project says so. Each delivery's and
# billing's words claim that kind and no other (drafts.DELIVERY_CLAIMS and BILLING_CLAIMS list
# what each kind's claims sound like); an unspecified one adds no words at all. The business
# model (how the demand is judged) says nothing about delivery: a phone app and a web app are
# both "saas".


@dataclass(frozen=True)
class _TierPlan:
    name: str
    multiple: Decimal
    period: str
    features: tuple[str, ...]


@dataclass(frozen=True)
class _DeliveryCopy:
    noun: str  # what the product is called in a headline ("the {noun} for {audience}")
    subheadline: str  # {audience}
    line: str  # one sentence stating the delivery, after the price
    calls_to_action: tuple[str, ...]
    benefits: tuple[str, ...]  # {audience}


@dataclass(frozen=True)
class _BillingCopy:
    pitch: str  # {price}
    benefit: str
    tiers: tuple[_TierPlan, ...]


_DELIVERY = {
    "unspecified": _DeliveryCopy(
        noun="",
        subheadline="Made for {audience}.",
        line="",
        calls_to_action=("Join the waitlist", "Get early access", "Be first in line"),
        benefits=(),
    ),
    "web_app": _DeliveryCopy(
        noun="web app",
        subheadline="A web app for {audience} that runs right in your browser.",
        line="It runs in your browser, so there is nothing to install.",
        calls_to_action=("Get early access", "Join the waitlist", "Try it first"),
        benefits=("Runs in your browser, nothing to install", "Open it from any computer with a browser"),
    ),
    "mobile_app": _DeliveryCopy(
        noun="mobile app",
        subheadline="A mobile app for {audience}, on your phone wherever you are.",
        line="It is an app for your phone, so it is with you on the go.",
        calls_to_action=("Get the app first", "Join the waitlist", "Get early access"),
        benefits=("An app on your phone, with you on the go", "Install it from your phone's app store"),
    ),
    "physical": _DeliveryCopy(
        noun="product",
        subheadline="A physical product made for {audience}.",
        line="It is a physical product you can hold in your hands.",
        calls_to_action=("Reserve yours", "Be first in line", "Join the waitlist"),
        benefits=("A physical product you can hold in your hands",),
    ),
    "service": _DeliveryCopy(
        noun="service",
        subheadline="A done-for-you service for {audience}.",
        line="It is a service: we do the work for you.",
        calls_to_action=("Request early access", "Join the waitlist", "Get in touch first"),
        benefits=("We do the work for you", "A service shaped around what you need"),
    ),
    "course": _DeliveryCopy(
        noun="course",
        subheadline="A course for {audience}.",
        line="It is a course that takes you step by step.",
        calls_to_action=("Save my seat", "Join the waitlist", "Get early access"),
        benefits=("Lessons that take you step by step",),
    ),
}
# "one-time" is also the period a page prints without a suffix: the one plan for a billing the
# founder did not state, or one paid per use, shows its price alone.
_BILLING = {
    "unspecified": _BillingCopy(
        pitch="The planned price is {price}.",
        benefit="",
        tiers=(_TierPlan("Early access", Decimal(1), "one-time", ()),),
    ),
    "subscription": _BillingCopy(
        pitch="Plans start at {price} a month.",
        benefit="Simple monthly pricing",
        tiers=(
            _TierPlan("Starter", Decimal(1), "month", ("Everything you need to get started",)),
            _TierPlan("Pro", Decimal(3), "month", ("Everything in Starter", "Priority support")),
            # Ten months of Pro: the usual "two months free" for paying yearly.
            _TierPlan("Pro yearly", Decimal(30), "year", ("Everything in Pro", "Two months free")),
        ),
    ),
    "one_time": _BillingCopy(
        pitch="Yours for {price}, paid once.",
        benefit="Pay once, no recurring fees",
        tiers=(
            _TierPlan("Standard", Decimal(1), "one-time", ("Everything you need to get started",)),
            _TierPlan("Premium", Decimal("2.5"), "one-time", ("Everything in Standard", "Priority support")),
        ),
    ),
    "usage": _BillingCopy(
        pitch="Pay only for what you use, from {price}.",
        benefit="Pay only for what you use",
        tiers=(_TierPlan("Pay as you go", Decimal(1), "one-time", ("Pay only for what you use",)),),
    ),
}
# True of every page the platform publishes: a new idea's waitlist for this audience.
_GENERIC_BENEFITS = (
    "Made for {audience}",
    "Be the first to hear when it launches",
    "Early signups are first to try it",
)
_TARGET_FEATURES = 5
_NO_AUDIENCE = "people like you"
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\s*\n\s*")
_LEADING_FILLER = re.compile(r"^(?:(?:and|also|plus|but|so|then|it|this|that|which)\s+)+", re.IGNORECASE)
_WORD = re.compile(r"[\w'-]+")
# Only words longer than three letters count towards strength, so only those need listing.
_STOPWORDS = frozenset(
    {"from", "have", "that", "their", "them", "then", "they", "this", "were", "which", "will", "with", "your"}
)


def _clip(text: str, limit: int) -> str:
    """Collapse whitespace and cut at a word boundary, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:  # a word boundary that keeps at least half the text
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def _escaped(text: str, limit: int) -> str:
    """HTML-escape text, clipped so that the escaped form (which can grow) fits in `limit`."""
    budget = limit
    while budget > 0:
        escaped = html.escape(_clip(text, budget))
        if len(escaped) <= limit:
            return escaped
        budget -= len(escaped) - limit
    return ""


def _clean_clause(text: str) -> str:
    text = _LEADING_FILLER.sub("", " ".join(text.split()).lstrip("-*•·> ")).rstrip(" .,;:!?")
    return text[:1].upper() + text[1:]


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _clauses(description: str) -> list[str]:
    """Sentences of the description; a sentence listing several things (commas) is split into
    them, unless that would leave fragments too short to stand as a feature: a part of four
    words or more is a thing of its own ("syncs with your bank"), a shorter one the tail of a
    list inside one clause ("needs water, light or food")."""
    clauses = []
    for sentence in _SENTENCES.split(description):
        parts = [_clean_clause(part) for part in sentence.split(",")]
        if len(parts) > 1 and all(_word_count(part) >= 4 for part in parts):
            clauses.extend(parts)
        else:
            clauses.append(_clean_clause(sentence))
    return [clause for clause in clauses if _word_count(clause) >= 3]


def _strength(clause: str) -> int:
    words = [word.lower() for word in _WORD.findall(clause)]
    content = {word for word in words if len(word) > 3 and word not in _STOPWORDS}
    # Specifics (numbers) sell; rambling clauses make weak bullet points.
    return len(content) + 2 * any(char.isdigit() for char in clause) - max(0, len(words) - 20)


def _headline_angles(name: str, audience: str, noun: str, lead: str, feature: str) -> list[str]:
    """Every headline the idea supports, one per angle; an angle with nothing to say (no
    description sentence, no audience) is left out rather than filled with an invented claim."""
    angles = [
        f"{name}: the {noun} for {audience}" if noun else f"{name}, made for {audience}",
        f"{name}: {_sentence_case(lead)}" if lead else "",
        f"{name}: {_sentence_case(feature)}" if feature else "",
        f"Meet {name}, made for {audience}",
        f"{audience[:1].upper()}{audience[1:]}, meet {name}" if audience != _NO_AUDIENCE else "",
        f"Be among the first {audience} to try {name}" if audience != _NO_AUDIENCE else f"Be the first to try {name}",
        f"{name}: built around what {audience} need",
        f"Made for {audience}: {name}",
    ]
    return [angle for angle in angles if angle]


def _sentence_case(clause: str) -> str:
    """A sentence's clause to follow a colon: "Sends reminders" becomes "sends reminders", but
    "InvoiceBuddy", "iOS" or "AI" keep their capitals."""
    first = clause.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():
        return clause[:1].lower() + clause[1:]
    return clause


def _pick(options: Sequence[T], seed: int) -> T:
    return options[seed % len(options)]


class BuiltinGenerator:
    """Template copy from the idea itself: offline, always schema-valid, and deterministic for
    a given seed (`IdeaInput.seed`); each seed is another angle on the same facts."""

    name = "builtin"

    def generate(self, idea: IdeaInput) -> PrototypeDraft:
        delivery, billing, seed = _DELIVERY[idea.delivery], _BILLING[idea.billing], idea.seed
        price = min(max(Decimal(str(idea.price_point)), Decimal(0)), MAX_PRICE).quantize(_CENTS, ROUND_HALF_UP)
        name = _clip(idea.name, 40) or f"Your {delivery.noun or 'idea'}"
        audience = _clip(idea.target_audience, 40).rstrip(".") or _NO_AUDIENCE
        description = " ".join(idea.idea_description.split())
        sentences = [line for line in _SENTENCES.split(idea.idea_description) if _word_count(line) >= 3]
        lead = " ".join(sentences[0].split()) if sentences else ""
        features = self._description_features(idea.idea_description, lead)

        intro = f"<strong>{html.escape(name)}</strong> is built for {html.escape(audience)}."
        price_line = billing.pitch.format(price=price_tag(price, idea.currency)) if price else f"{name} is free."
        pitch = html.escape(" ".join(filter(None, (price_line, delivery.line))))
        budget = min(600, TEXT_LIMITS["value_proposition"][1] - len(f"<p>{intro} </p><p>{pitch}</p>"))
        summary = " ".join(filter(None, (intro, _escaped(description, budget))))
        top_feature = features[0] if features else ""
        headlines = _headline_angles(name, audience, delivery.noun, _clean_clause(lead), top_feature)
        subheadlines = [_clip(lead, TEXT_LIMITS["subheadline"][1])] if lead else []
        subheadlines.append(delivery.subheadline.format(audience=audience))
        benefits = [b.format(audience=audience) for b in (*delivery.benefits, *_GENERIC_BENEFITS)]
        if price and billing.benefit:
            benefits.insert(len(delivery.benefits), billing.benefit)
        # Each regeneration leads with other benefits too, in the same order otherwise.
        turn = seed % len(benefits)
        return PrototypeDraft(
            headline=_clip(_pick(headlines, seed), TEXT_LIMITS["headline"][1]),
            subheadline=_pick(subheadlines, seed),
            value_proposition=f"<p>{summary}</p><p>{pitch}</p>",
            features=self._features(features, benefits[turn:] + benefits[:turn]),
            pricing_tiers=self._tiers(price, billing),
            call_to_action=_pick(delivery.calls_to_action, seed),
        )

    def _description_features(self, description: str, lead: str) -> list[str]:
        # The strongest clauses in the founder's order, minus the one already shown as the lead.
        clauses = [clause for clause in _clauses(description) if clause.casefold() != _clean_clause(lead).casefold()]
        strongest = sorted(range(len(clauses)), key=lambda i: (-_strength(clauses[i]), i))[:_TARGET_FEATURES]
        features: list[str] = []
        for candidate in (_clip(clauses[i], FEATURE_MAX) for i in sorted(strongest)):
            if candidate.casefold() not in {feature.casefold() for feature in features}:
                features.append(candidate)
        return features

    def _features(self, features: list[str], benefits: list[str]) -> list[str]:
        # The description's clauses, then benefits that follow from what the project states:
        # enough bullets on every page, and at least one the description might not mention.
        taken = {feature.casefold() for feature in features}
        benefits = [benefit for benefit in benefits if benefit.casefold() not in taken]
        return features + benefits[: max(1, _TARGET_FEATURES - len(features))]

    def _tiers(self, price: Decimal, billing: _BillingCopy) -> list[PricingTier]:
        first = billing.tiers[0]
        if not price:
            return [{"name": "Free", "price": "0.00", "period": first.period, "features": list(first.features)}]
        tiers: list[PricingTier] = []
        for plan in billing.tiers:
            amount = (price * plan.multiple).quantize(_CENTS, ROUND_HALF_UP)
            # Past the cap a multiple means nothing; the first tier is the price point itself.
            if amount <= MAX_PRICE:
                tiers.append(
                    {"name": plan.name, "price": str(amount), "period": plan.period, "features": list(plan.features)}
                )
        return tiers
