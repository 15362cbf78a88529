"""A cost against what the price can carry (`projects.analysis.costs.cost_check`, `most_per_result`)."""

from decimal import Decimal

import pytest

from projects.analysis.costs import NO_BAR, NO_RESULTS, NO_SPEND, OVER, WITHIN, cost_check, most_per_result

BARS = {"allowable_cost_per_lead": 7.73, "allowable_cac": 38.65}


def test_a_signup_and_a_confirmed_signup_may_cost_a_lead_and_a_preorder_a_customer():
    assert most_per_result("signup", signups=3, clicks=10, **BARS) == 7.73
    assert most_per_result("confirmed_signup", signups=3, clicks=10, **BARS) == 7.73
    assert most_per_result("preorder", signups=3, clicks=10, **BARS) == 38.65


def test_a_click_may_cost_a_lead_times_the_signups_per_click():
    assert most_per_result("click", signups=5, clicks=100, **BARS) == pytest.approx(7.73 * 5 / 100)
    assert most_per_result("click", signups=0, clicks=100, **BARS) is None
    assert most_per_result("click", signups=5, clicks=0, **BARS) is None
    with pytest.raises(ValueError):
        most_per_result("visit", signups=1, clicks=1, **BARS)


@pytest.mark.parametrize(
    ("spend", "cost", "most", "state"),
    [
        (Decimal("10"), Decimal("7.73"), 7.73, WITHIN),  # equal is within
        (Decimal("10"), Decimal("7.74"), 7.734, OVER),  # the bar rounded to the cent first: 7.73
        (Decimal("10"), Decimal("2.00"), 7.735, WITHIN),
        (Decimal("0"), None, 7.73, NO_SPEND),
        (Decimal("10"), None, 7.73, NO_RESULTS),
        (Decimal("10"), Decimal("3.00"), None, NO_BAR),
    ],
)
def test_cost_check_states(spend, cost, most, state):
    check = cost_check(spend=spend, cost=cost, most=most, places=2)
    assert check.state == state
    assert check.cost == (None if state in (NO_SPEND, NO_RESULTS) else cost)
    if most is not None:
        assert check.most == Decimal(repr(most)).quantize(Decimal("0.01"))
