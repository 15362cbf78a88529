"""The verdict's reasons in a founder's words.

The reasons (:mod:`projects.analysis.score`) are written for the API: they cite the thresholds by key
(``[max_bot_share]``), name the score's components by their code names and the rules' modules, and give chances as
``P(...) = 0.97``. :func:`plain_reason` rewrites one for the report page: no keys, no module paths, components by
their plain names (:data:`COMPONENT_TERMS`, each with its glossary entry), chances as percentages. No Django.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from projects.analysis.plain_figures import chance
from projects.analysis.thresholds import LABELS

__all__ = ["COMPONENT_TERMS", "plain_reason", "plain_source"]

# Each score component: what it measures in plain words, and its glossary entry.
COMPONENT_TERMS: Mapping[str, tuple[str, str]] = {
    "signup_pull": ("Cold visitors who signed up", "conversion-rate"),
    "purchase_intent": ("Signups who pre-ordered", "pre-order-rate"),
    "unit_economics": ("Ads paying for themselves", "break-even-rate"),
    "signup_quality": ("Signups who confirmed their email", "confirmation-rate"),
    "organic_pull": ("Visitors who came by word of mouth", "word-of-mouth-share"),
}

# Reasons are written for the API; on the page the threshold keys go and the components get their plain names.
_KEY = re.compile(r"\s*\[[A-Za-z0-9_.]+\]")
_MODULE = re.compile(r",?\s*projects\.analysis\.[A-Za-z0-9_.]*[A-Za-z0-9_]")
_PROBABILITY = re.compile(r"P\((?P<what>[^)]*?)\s*>\s*(?P<bar>[^)]+)\)\s*=\s*(?P<p>[0-9.]+)")
_FRACTIONAL_DAYS = re.compile(r"\b(\d+\.\d+) of (\d+) days")
_BARE_P = re.compile(r"\bP = (?P<p>[0-9.]+)")
_SCORE_PHRASES = (
    ("Weakest component", "What holds the score back most"),
    ("Inconclusive:", "Not clear yet:"),
    ("futility stop", "stopped early"),
    ("renormalised", "shared out again"),
    ("LTV", "a customer's value"),
    ("signup-to-customer", "of signups becoming customers"),
    ("signup-rate probability", "chance the sign-up rate beats its bar"),
    ("with probability", "with a chance of"),
    (" >= ", " at least "),
    (" <= ", " at most "),
    (" < ", " below "),
)


def _chance_sentence(match: re.Match[str]) -> str:
    what = match.group("what").strip() or "rate"
    return f"chance the {what} is above {match.group('bar').strip()}: {chance(float(match.group('p')))}"


def plain_reason(reason: str) -> str:
    """One of the verdict's reasons without threshold keys, module paths or component code names."""
    text = _KEY.sub("", reason)
    text = _MODULE.sub("", text)
    text = _PROBABILITY.sub(_chance_sentence, text)
    text = _BARE_P.sub(lambda m: f"chance {chance(float(m.group('p')))}", text)
    for name, label in LABELS.items():
        plain = COMPONENT_TERMS[name][0].lower() if name in COMPONENT_TERMS else label
        text = text.replace(label.capitalize(), f"“{plain[0].upper()}{plain[1:]}”").replace(label, f"“{plain}”")
    # Days since launch are counted to the second for the rule; a person reads "2 of 7 days", not "2.00004".
    text = _FRACTIONAL_DAYS.sub(lambda m: f"{float(m.group(1)):.0f} of {m.group(2)} days", text)
    for jargon, plain in _SCORE_PHRASES:
        text = text.replace(jargon, plain)
    return text.replace("Wilson", "").replace("(, ", "(").replace(" ()", "")


def plain_source(source: str) -> str:
    """Where a bar comes from, without the code's own names: a published source stays as written."""
    if source.startswith("product decision"):
        return "MVP Validator's own rule, set with the demand score."
    if source.startswith("projects.analysis"):
        rule = _MODULE.sub("", source).strip(" ()")
        return rule[:1].upper() + rule[1:] + "." if rule else "MVP Validator's own rule."
    return source
