"""The builtin generator: deterministic landing-page copy from the idea, with no network."""

import html
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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

# --- Builtin generator -----------------------------------------------------------------------


@dataclass(frozen=True)
class _TierPlan:
    name: str
    multiple: Decimal
    period: str
    features: tuple[str, ...]


@dataclass(frozen=True)
class _ModelCopy:
    noun: str
    headline: str  # {name}, {audience}
    subheadline: str  # {audience}; for descriptions too short to lend a sentence
    pitch: str  # {price}
    free_pitch: str
    call_to_action: str
    benefits: tuple[str, ...]  # at least FEATURES_COUNT[0] + 2, so padding never runs short
    tiers: tuple[_TierPlan, ...]


_COPY = {
    "saas": _ModelCopy(
        noun="app",
        headline="{name}: the simple way for {audience} to get more done",
        subheadline="An app for {audience} that runs right in your browser.",
        pitch="Plans start at {price} a month. It runs in your browser, so there is nothing to install.",
        free_pitch="It is free to get started and runs in your browser, so there is nothing to install.",
        call_to_action="Get early access",
        benefits=(
            "Set up in minutes, right in your browser",
            "Your work synced across all your devices",
            "Secure by default, with encrypted connections",
            "Regular updates shaped by customer feedback",
            "Export your data whenever you want",
        ),
        tiers=(
            _TierPlan("Starter", Decimal(1), "month", ("Everything you need to get started", "Email support")),
            _TierPlan("Pro", Decimal(3), "month", ("Everything in Starter", "Advanced features", "Priority support")),
            # Ten months of Pro: the usual "two months free" for paying yearly.
            _TierPlan("Pro yearly", Decimal(30), "year", ("Everything in Pro", "Two months free")),
        ),
    ),
    "service": _ModelCopy(
        noun="service",
        headline="{name}: expert help for {audience}, done for you",
        subheadline="A done-for-you service for {audience}.",
        pitch="You tell us what you need; we agree scope and price up front. Packages start at {price}.",
        free_pitch="You tell us what you need; we agree the scope up front. The first consultation is free.",
        call_to_action="Book a free intro call",
        benefits=(
            "A dedicated expert who knows your situation",
            "Clear scope and price agreed before we start",
            "Regular progress updates, no chasing needed",
            "Flexible scheduling around your calendar",
            "Follow-up support after delivery",
        ),
        tiers=(
            _TierPlan(
                "Essentials", Decimal(1), "one-time", ("Scoped to one clear goal", "Written summary of next steps")
            ),
            _TierPlan("Complete", Decimal("2.5"), "one-time", ("Everything in Essentials", "End-to-end delivery")),
            _TierPlan("Ongoing", Decimal(2), "month", ("Continuous support every month", "Priority scheduling")),
        ),
    ),
    "product": _ModelCopy(
        noun="product",
        headline="{name}, made for {audience}",
        subheadline="A product designed for {audience}.",
        pitch="Yours for {price}: a one-time purchase, no subscription.",
        free_pitch="Get it free while we are in early access.",
        call_to_action="Reserve yours",
        benefits=(
            "Ready to use from day one",
            "Designed around real everyday use",
            "One purchase, no subscription",
            "Built to last",
            "Friendly support if anything goes wrong",
        ),
        tiers=(
            _TierPlan("Standard", Decimal(1), "one-time", ("The complete product",)),
            _TierPlan("Pack of 3", Decimal("2.5"), "one-time", ("Three units", "Save compared with buying three")),
        ),
    ),
    "course": _ModelCopy(
        noun="course",
        headline="{name}: the practical course for {audience}",
        subheadline="A practical course for {audience}.",
        pitch="Enrol for {price}, one payment, and learn at your own pace with lessons you can use straight away.",
        free_pitch="Enrol for free and learn at your own pace with lessons you can use straight away.",
        call_to_action="Save my seat",
        benefits=(
            "Short, practical lessons you can finish in an evening",
            "Real-world examples and exercises",
            "Lifetime access, including future updates",
            "Learn at your own pace on any device",
            "Templates and checklists to keep",
        ),
        tiers=(
            _TierPlan("Self-paced", Decimal(1), "one-time", ("All lessons and exercises", "Lifetime access")),
            _TierPlan("With coaching", Decimal(3), "one-time", ("Everything in Self-paced", "Live group Q&A sessions")),
        ),
    ),
}
_TARGET_FEATURES = 5
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
    them, unless that would leave fragments too short to stand as a feature."""
    clauses = []
    for sentence in _SENTENCES.split(description):
        parts = [_clean_clause(part) for part in sentence.split(",")]
        if len(parts) > 1 and all(_word_count(part) >= 3 for part in parts):
            clauses.extend(parts)
        else:
            clauses.append(_clean_clause(sentence))
    return [clause for clause in clauses if _word_count(clause) >= 3]


def _strength(clause: str) -> int:
    words = [word.lower() for word in _WORD.findall(clause)]
    content = {word for word in words if len(word) > 3 and word not in _STOPWORDS}
    # Specifics (numbers) sell; rambling clauses make weak bullet points.
    return len(content) + 2 * any(char.isdigit() for char in clause) - max(0, len(words) - 20)


class BuiltinGenerator:
    """Template copy from the idea itself: deterministic, offline, always schema-valid."""

    name = "builtin"

    def generate(self, idea: IdeaInput) -> PrototypeDraft:
        copy = _COPY[idea.business_model]
        price = min(max(Decimal(str(idea.price_point)), Decimal(0)), MAX_PRICE).quantize(_CENTS, ROUND_HALF_UP)
        name = _clip(idea.name, 40) or f"Your {copy.noun}"
        audience = _clip(idea.target_audience, 40).rstrip(".") or "people like you"
        description = " ".join(idea.idea_description.split())
        sentences = [line for line in _SENTENCES.split(idea.idea_description) if _word_count(line) >= 3]
        lead = " ".join(sentences[0].split()) if sentences else ""

        intro = f"<strong>{html.escape(name)}</strong> is built for {html.escape(audience)}."
        pitch = html.escape(copy.pitch.format(price=price_tag(price, idea.currency)) if price else copy.free_pitch)
        budget = min(600, TEXT_LIMITS["value_proposition"][1] - len(f"<p>{intro} </p><p>{pitch}</p>"))
        summary = " ".join(filter(None, (intro, _escaped(description, budget))))
        return PrototypeDraft(
            headline=_clip(copy.headline.format(name=name, audience=audience), TEXT_LIMITS["headline"][1]),
            subheadline=_clip(lead, TEXT_LIMITS["subheadline"][1]) or copy.subheadline.format(audience=audience),
            value_proposition=f"<p>{summary}</p><p>{pitch}</p>",
            features=self._features(idea.idea_description, lead, copy),
            pricing_tiers=self._tiers(price, copy),
            call_to_action=copy.call_to_action,
        )

    def _features(self, description: str, lead: str, copy: _ModelCopy) -> list[str]:
        # The strongest clauses in the founder's order (minus the one already shown as the
        # subheadline), then the model's own benefits: enough bullets on every page, and at
        # least one benefit the description might not mention.
        clauses = [clause for clause in _clauses(description) if clause.casefold() != _clean_clause(lead).casefold()]
        strongest = sorted(range(len(clauses)), key=lambda i: (-_strength(clauses[i]), i))[:_TARGET_FEATURES]
        features: list[str] = []
        for candidate in (_clip(clauses[i], FEATURE_MAX) for i in sorted(strongest)):
            if candidate.casefold() not in {feature.casefold() for feature in features}:
                features.append(candidate)
        taken = {feature.casefold() for feature in features}
        benefits = [benefit for benefit in copy.benefits if benefit.casefold() not in taken]
        return features + benefits[: max(1, _TARGET_FEATURES - len(features))]

    def _tiers(self, price: Decimal, copy: _ModelCopy) -> list[PricingTier]:
        first = copy.tiers[0]
        if not price:
            return [{"name": "Free", "price": "0.00", "period": first.period, "features": list(first.features)}]
        tiers: list[PricingTier] = []
        for plan in copy.tiers:
            amount = (price * plan.multiple).quantize(_CENTS, ROUND_HALF_UP)
            # Past the cap a multiple means nothing; the first tier is the price point itself.
            if amount <= MAX_PRICE:
                tiers.append(
                    {"name": plan.name, "price": str(amount), "period": plan.period, "features": list(plan.features)}
                )
        return tiers
