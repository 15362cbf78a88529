"""The test card of the acceptance cases and scipy references for the demand score, shared by the test modules of
tests/projects/analysis/."""

from __future__ import annotations

from scipy import stats as sps

from projects.analysis.test_card import build_test_card

IDEA = "Chaser, invoice reminders for freelancers"


def saas_card(**overrides):
    """The acceptance card: a $29/month SaaS advertised on paid search at an expected $1.50 per click."""
    return build_test_card(
        idea=IDEA,
        channel="paid_search",
        price=29,
        currency="USD",
        business_model="saas",
        expected_cpc=1.5,
        overrides=overrides or None,
    )


def sf(successes, trials, bar):
    """Reference posterior P(rate > bar) with the uniform prior, from scipy."""
    return float(sps.beta.sf(bar, 1 + successes, 1 + trials - successes))


def reference_score(parts):
    """Score from (weight, probability or None) pairs: weights renormalised over the parts that have data."""
    present = [(w, p) for w, p in parts if p is not None]
    return 100.0 * sum(w * p for w, p in present) / sum(w for w, _ in present)


def probabilities(verdict):
    return {c.name: c.probability for c in verdict.components}
