"""The export registry: what a registered kind yields is written as JSON or defused CSV."""

import csv
import io
import json
from decimal import Decimal

import pytest

from accounts import exports


@pytest.fixture
def kind():
    exports.register("extra", lambda user: iter([{"a": "=1+1", "b": Decimal("-3.5"), "c": [1, "x"]}]))
    yield exports.get("extra")
    exports._kinds.pop("extra")


def test_a_kind_without_columns_takes_them_from_its_first_row(kind):
    rows = list(csv.reader(io.StringIO("".join(exports.csv_lines(None, kind)))))
    assert rows == [["a", "b", "c"], ["'=1+1", "-3.5", '[1, "x"]']]


def test_registering_a_name_again_replaces_it(kind):
    exports.register("extra", lambda user: iter(()), columns=("z",))
    assert exports.kinds().count("extra") == 1
    assert "".join(exports.csv_lines(None, exports.get("extra"))) == "z\r\n"


def test_json_keeps_values_as_they_are(kind):
    document = json.loads("".join(exports.json_chunks(None, ["extra"])))
    assert document == {"extra": [{"a": "=1+1", "b": "-3.5", "c": [1, "x"]}]}
