"""The spend CSV parser: aliases, currency signs and blank lines accepted; every bad line named."""

from datetime import date
from decimal import Decimal

import pytest

from projects.analysis import spend_csv

GOOD = b"date,spend,impressions,clicks\n2026-11-01,30.00,4000,20\n2026-11-02,$45.5,5000,30\n\n2026-11-03,0,0,0\n"
BAD = (
    b"Day,Cost,Clicks\n"
    b"2026-11-01,12.00,10\n"
    b"2026-13-01,5,1\n"  # line 3: no 13th month
    b"2026-11-02,-4,2\n"  # line 4: negative spend
    b"2026-11-01,3.333,x\n"  # line 5: a day already on line 2, three decimals, clicks not a number
)


def test_a_good_file_parses_with_aliases_currency_signs_and_blank_lines():
    rows, errors = spend_csv.parse(b"\xef\xbb\xbf" + GOOD)
    assert errors == []
    assert [(r.line, r.date, r.spend, r.impressions, r.clicks) for r in rows] == [
        (2, date(2026, 11, 1), Decimal("30.00"), 4000, 20),
        (3, date(2026, 11, 2), Decimal("45.5"), 5000, 30),
        (5, date(2026, 11, 3), Decimal("0"), 0, 0),
    ]


def test_every_bad_line_is_named_and_nothing_is_returned():
    rows, errors = spend_csv.parse(BAD)
    assert rows == []
    assert [(e.line, e.field) for e in errors] == [(3, "date"), (4, "spend"), (5, "spend"), (5, "clicks"), (5, "date")]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "file"),
        (b"date,spend\n", "file"),
        (b"when,spend\n2026-11-01,1\n", "header"),
        (b"date,spend,colour\n2026-11-01,1,red\n", "header"),
        (b"date,spend\n\xff\xfe\n", "file"),
        (b"date,spend\n2026-11-01\n", "row"),
        (b"date,spend,impressions,clicks\n2026-11-01,1,10,11\n", "clicks"),
        (b"date,spend\n" + b"2026-11-01,1\n" * 2, "date"),
    ],
)
def test_refused_files(data, field):
    rows, errors = spend_csv.parse(data)
    assert rows == [] and errors and errors[0].field == field


def test_days_outside_the_campaign_are_refused():
    _, errors = spend_csv.parse(GOOD, starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 2))
    assert [(e.line, e.field) for e in errors] == [(2, "date"), (5, "date")]


def test_too_many_rows_is_refused():
    data = b"date,spend\n" + b"".join(
        f"{date.fromordinal(738000 + i)},1\n".encode() for i in range(spend_csv.MAX_ROWS + 1)
    )
    rows, errors = spend_csv.parse(data)
    assert rows == [] and errors[0].field == "file"
