"""Inline SVG charts: well-formed, accessible, CSP-safe (no inline styles) and honest about gaps."""

import math
import re
import xml.etree.ElementTree as ET

import pytest

from monitoring.charts import Series, bar_chart, format_number, line_chart, nice_ceiling, sparkline

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</svg><script>alert(1)</script>\"'&"
NUMERIC_ATTRS = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "height", "stroke-width", "font-size")
NICE_MANTISSAS = (1, 2, 2.5, 5, 10)
# A word on its own: "dominant-baseline" is fine, "nan" or "inf" as a value is not.
NON_FINITE = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


def parse(svg: str) -> ET.Element:
    """Parse and check what every chart must satisfy; return the root."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output, and the test is that it parses
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.get("width") == "100%"
    assert root.get("preserveAspectRatio")
    assert root[0].tag == f"{SVG}title" and root[0].text == root.get("aria-label")
    numbers = [float(v) for v in root.get("viewBox").split()]
    assert len(numbers) == 4 and numbers[2] > 0 and numbers[3] > 0
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert element.tag not in (f"{SVG}style", f"{SVG}script", "style", "script")
        for name in NUMERIC_ATTRS:
            if name in element.attrib and not (element is root and name == "width"):
                numbers.append(float(element.get(name)))
        if "points" in element.attrib:
            numbers += [float(c) for pair in element.get("points").split() for c in pair.split(",")]
    for number in numbers:
        assert math.isfinite(number)
        assert round(number, 1) == number  # rounded to one decimal
    return root


def find(root: ET.Element, tag: str, css_class: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if css_class is None or css_class in e.get("class", "").split()]


def point_counts(element: ET.Element) -> list[int]:
    return [len(p.get("points").split()) for p in find(element, "polyline")]


def texts(root: ET.Element, css_class: str | None = None) -> list[str]:
    return ["".join(t.itertext()) for t in find(root, "text", css_class)]


def parse_label(label: str) -> float:
    """A y tick label back to a number ("1.5k" -> 1500)."""
    number, suffix = re.fullmatch(r"(-?[\d.]+)([kMGT]?)", label).groups()
    return float(number) * 1000 ** ("kMGT".index(suffix) + 1 if suffix else 0)


def y_ticks(root: ET.Element) -> list[float]:
    (axis,) = [g for g in find(root, "g", "y-axis")]
    return [parse_label(t) for t in texts(axis, "tick")]


def all_charts(label: str = "Requests") -> dict[str, str]:
    two = [Series("p50", [10, 20, None, 40, 35, 30], "s0"), Series("p95", [50, None, 70, 80, 90, 120], "s1")]
    return {
        "sparkline": sparkline([3, 1, None, 4, 1, 5], label=label),
        "sparkline-one": sparkline([None, 7], label=label),
        "sparkline-empty": sparkline([], label=label),
        "line": line_chart(two, x_labels=[f"d{i}" for i in range(6)], title=label, unit="ms"),
        "line-empty": line_chart([], x_labels=[], title=label),
        "line-all-missing": line_chart([Series("a", [None, math.nan])], x_labels=["a", "b"], title=label),
        "bar": bar_chart([("a", 1.0), ("b", 250.0), ("c", math.inf)], title=label, unit="req"),
        "bar-empty": bar_chart([], title=label),
    }


@pytest.mark.parametrize("kind", list(all_charts()))
def test_every_chart_is_accessible_well_formed_svg_without_inline_styles(kind):
    svg = all_charts()[kind]
    root = parse(svg)
    assert root.get("aria-label") == "Requests"
    assert "style" not in svg  # neither attribute nor element, not even in text
    assert not NON_FINITE.search(svg)


@pytest.mark.parametrize("kind", list(all_charts()))
def test_hostile_titles_are_escaped_and_round_trip(kind):
    svg = all_charts(label=HOSTILE)[kind]
    root = parse(svg)
    assert "<script" not in svg
    assert not find(root, "script")
    assert root.get("aria-label") == HOSTILE
    assert root[0].text == HOSTILE


def test_hostile_series_names_and_labels_are_escaped():
    chart = line_chart(
        [Series(HOSTILE, [1, 2], css_class='s0" onload="x'), Series("ok", [2, 3], "s1")],
        x_labels=[HOSTILE, "b"],
        title="t",
    )
    bars = bar_chart([(HOSTILE, 1.0)], title="t", highlight=lambda label, value: label == HOSTILE)
    for svg in (chart, bars):
        root = parse(svg)
        assert "<script" not in svg and not find(root, "script")
        assert all("onload" not in element.attrib for element in root.iter())
    assert HOSTILE in texts(parse(chart))  # x label and legend keep the text
    (bar_title,) = [t.text for t in find(parse(bars), "title")[1:]]
    assert bar_title == f"{HOSTILE}: 1"
    assert find(parse(bars), "rect", "bar-alert")  # highlight saw the raw label


def test_characters_xml_forbids_are_dropped():
    root = parse(sparkline([1, 2], label="a\x00b\x1bc\ufffe"))
    assert root[0].text == "abc"


def test_non_finite_values_never_reach_the_output():
    values = [1.0, math.nan, math.inf, None, -math.inf, 2.0, 3.0]
    outputs = [
        sparkline(values, label="x"),
        line_chart([Series("a", values)], x_labels=[str(i) for i in range(7)], title="t"),
        bar_chart([(str(i), v) for i, v in enumerate(values)], title="t"),
    ]
    for svg in outputs:
        parse(svg)
        assert not NON_FINITE.search(svg)
    assert point_counts(parse(outputs[0])) == [3]
    assert len(find(parse(outputs[2]), "rect", "bar")) == 3


def test_sparkline_has_one_point_per_present_value_and_keeps_their_x_position():
    root = parse(sparkline([1, None, 3, 2], width=100, height=20, label="x"))
    (line,) = find(root, "polyline")
    xs = [float(p.split(",")[0]) for p in line.get("points").split()]
    assert point_counts(root) == [3]
    assert xs == [2, 66, 98]  # index 1 left a gap of one step, not zero


def test_sparkline_single_value_is_a_dot():
    root = parse(sparkline([None, 5, None], label="x"))
    assert not find(root, "polyline")
    assert len(find(root, "circle")) == 1


@pytest.mark.parametrize("values", [[], [None, None, math.nan]])
def test_sparkline_without_values_draws_dashed_baseline_and_label(values):
    root = parse(sparkline(values, label="Signups"))
    (baseline,) = find(root, "line", "baseline")
    assert baseline.get("stroke-dasharray")
    assert texts(root) == ["Signups"]
    assert not find(root, "polyline")


def test_line_chart_gaps_split_lines_and_points_match_present_values():
    values = [1, 2, None, 3, 4, 5, None, None, 6, 7, None, 8]
    root = parse(line_chart([Series("a", values)], x_labels=[str(i) for i in range(12)], title="t"))
    (group,) = find(root, "g", "series")
    assert point_counts(group) == [2, 3, 2]
    assert len(find(group, "circle")) == 1  # the lone 8
    assert sum(point_counts(group)) + len(find(group, "circle")) == sum(v is not None for v in values)


def test_line_chart_rejects_labels_that_do_not_match_values():
    with pytest.raises(ValueError, match="3 values for 2 x labels"):
        line_chart([Series("a", [1, 2, 3])], x_labels=["a", "b"], title="t")


@pytest.mark.parametrize("peak", [0.021, 0.3, 1, 7, 37, 180, 999, 1234, 2_600_000])
def test_y_ticks_are_nice_evenly_spaced_and_cover_the_maximum(peak):
    root = parse(line_chart([Series("a", [0, peak / 2, peak])], x_labels=["a", "b", "c"], title="t"))
    ticks = y_ticks(root)
    assert ticks[0] == 0
    assert ticks[-1] >= peak
    assert 5 <= len(ticks) <= 6  # 4 or 5 intervals above 0
    step = ticks[1]
    assert all(math.isclose(b - a, step, rel_tol=1e-3) for a, b in zip(ticks, ticks[1:], strict=False))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in NICE_MANTISSAS)


def test_y_max_is_a_floor_for_the_axis_not_a_cap():
    quiet = parse(line_chart([Series("a", [0.1, 0.3])], x_labels=["a", "b"], title="t", unit="%", y_max=1))
    assert texts(find(quiet, "g", "y-axis")[0]) == ["0%", "25%", "50%", "75%", "100%"]
    loud = parse(line_chart([Series("a", [10, 70])], x_labels=["a", "b"], title="t", y_max=20))
    assert y_ticks(loud)[-1] >= 70


def test_line_chart_shows_at_most_six_x_labels_including_both_ends():
    labels = [f"day {i}" for i in range(30)]
    root = parse(line_chart([Series("a", list(range(30)))], x_labels=labels, title="t"))
    shown = texts(find(root, "g", "x-axis")[0])
    assert len(shown) == 6
    assert shown[0] == "day 0" and shown[-1] == "day 29"


def test_legend_only_when_there_are_several_series():
    one = parse(line_chart([Series("a", [1])], x_labels=["x"], title="t"))
    two = parse(line_chart([Series("a", [1]), Series("b", [2], "s1")], x_labels=["x"], title="t"))
    assert not find(one, "g", "legend")
    (legend,) = find(two, "g", "legend")
    assert texts(legend) == ["a", "b"]
    assert [line.get("class") for line in find(legend, "line")] == ["swatch s0", "swatch s1"]


@pytest.mark.parametrize("series", [[], [Series("a", [None, None])]], ids=["no series", "all missing"])
def test_line_chart_without_data_says_so_and_keeps_its_axes(series):
    root = parse(line_chart(series, x_labels=["a", "b"] if series else [], title="t"))
    assert texts(root, "no-data") == ["no data"]
    assert len(find(find(root, "g", "axis")[0], "line")) == 2
    assert y_ticks(root) == [0, 0.25, 0.5, 0.75, 1]
    assert not find(root, "polyline")


def test_bar_chart_highlights_bars_and_keeps_full_labels_in_titles():
    bars = [("checkout-service-primary", 120.0), ("search", 40.0)]
    root = parse(bar_chart(bars, title="t", unit="ms", highlight=lambda label, value: value > 100))
    assert [r.get("class") for r in find(root, "rect")] == ["bar bar-alert", "bar"]
    assert texts(find(root, "g", "bars")[0]) == ["checkout-se\u2026", "search"]
    titles = [t.text for t in find(root, "title")[1:]]
    assert titles == ["checkout-service-primary: 120 ms", "search: 40 ms"]
    assert y_ticks(parse(bar_chart(bars, title="t")))[-1] >= 120


def test_bar_chart_without_data_says_so():
    root = parse(bar_chart([("a", math.nan)], title="t"))
    assert texts(root, "no-data") == ["no data"]
    assert not find(root, "rect")
    assert find(root, "title")[1].text == "a: no data"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0, "", "0"),
        (12, "", "12"),
        (0.25, "", "0.25"),
        (12.34, "", "12.3"),
        (1500, "", "1.5k"),
        (2_300_000, "", "2.3M"),
        (999.96, "", "1k"),
        (-1500, "", "-1.5k"),
        (850, "ms", "850 ms"),
        (1200, "ms", "1.2 s"),
        (999.7, "ms", "1 s"),
        (0.125, "%", "12.5%"),
        (1, "%", "100%"),
        (-0.00001, "%", "0%"),
        (3, "req/s", "3 req/s"),
        (1500, "B", "1.5k B"),
        (math.nan, "ms", "\u2014"),
    ],
)
def test_format_number(value, unit, expected):
    assert format_number(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-5, 1), (0, 1), (0.021, 0.025), (0.3, 0.5), (1, 1), (1.01, 2), (2.2, 2.5), (3, 5), (7, 10), (1000, 1000)],
)
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_nice_ceiling_is_the_next_nice_number_across_magnitudes():
    for exponent in range(-6, 10):
        for mantissa in (1, 1.2, 2, 2.4, 2.6, 4.9, 5, 5.1, 9.99):
            value = mantissa * 10.0**exponent
            top = nice_ceiling(value)
            assert value <= top <= 2 * value
            scaled = top / 10 ** math.floor(math.log10(top) + 1e-9)
            assert any(math.isclose(scaled, m) for m in NICE_MANTISSAS), (value, top)
    with pytest.raises(ValueError):
        nice_ceiling(math.nan)


def test_same_input_gives_the_same_string():
    assert all_charts() == all_charts()
    values = [1, None, 3]
    assert sparkline(values, label="x") == sparkline(tuple(values), label="x")


def test_too_small_a_chart_is_refused():
    with pytest.raises(ValueError, match="too small"):
        bar_chart([("a", 1.0)], title="t", width=50)
