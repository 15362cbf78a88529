"""Small charts for the staff dashboard, rendered as inline SVG strings.

Standard library only, no Django: the functions take plain numbers and strings and return
markup, so they are tested without a database and can be used from any view or template.

The dashboard is served under a Content-Security-Policy whose `style-src` has no
'unsafe-inline', so nothing here emits a `style` attribute or a <style> element. Colours and
sizes are SVG presentation attributes (defaults that any CSS rule overrides) plus `class` names
for the page's stylesheet: `chart`, `sparkline`, `series s0`..`sN`, `swatch`, `bar`,
`bar-alert`, `grid`, `axis`, `tick`, `legend`, `no-data`, `baseline`.

Text from data is escaped and stripped of the characters XML 1.0 forbids, and only finite
numbers reach the output (None, NaN and infinities count as missing), so the result is
well-formed XML whatever the data holds. Output is deterministic: no ids (two charts on one page
cannot collide), no randomness, coordinates rounded to one decimal.
"""

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Series", "bar_chart", "format_number", "line_chart", "nice_ceiling", "sparkline"]

SVG_NS = "http://www.w3.org/2000/svg"
# Text and dots must keep their shape when the chart is scaled to the container's width.
ASPECT = "xMidYMid meet"
NO_DATA = "no data"
MISSING = "\u2014"
ELLIPSIS = "\u2026"
LABEL_CHARS = 12
LEGEND_CHARS = 24
MAX_X_TICKS = 6
FONT_SIZE = 10
# Defaults only: a stylesheet rule on the element's class wins over a presentation attribute.
PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777")
ALERT_FILL = "#dc2626"
# Margins in viewBox units: y tick labels on the left, x labels below, the legend on top.
LEFT, RIGHT, TOP, BOTTOM, LEGEND = 52, 16, 10, 24, 18

# Axis tops are m x 10^k; each m comes with the number of intervals that makes the step nice
# (1 -> 0.25 steps, 2 -> 0.5, 2.5 -> 0.5, 5 -> 1), so the axis gets 4 or 5 intervals above 0.
_NICE: tuple[tuple[float, int], ...] = ((1, 4), (2, 4), (2.5, 5), (5, 5))
# Characters that XML 1.0 does not allow even as references: https://www.w3.org/TR/xml/#charsets
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))

Attr = str | float
_THIN: dict[str, Attr] = {"stroke": "currentColor", "stroke_width": 1}
_LINE_STROKE: dict[str, Attr] = {
    "stroke": "currentColor",
    "stroke_width": 1.5,
    "stroke_linejoin": "round",
    "stroke_linecap": "round",
}


@dataclass(frozen=True)
class Series:
    """One line of a line chart. Give each series its own `css_class` (s0, s1, ...) so the
    stylesheet can colour it; without a rule the line takes a colour from PALETTE by position."""

    name: str
    values: Sequence[float | None]
    css_class: str = "s0"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k that is >= `value`: the top of a 0-based axis.

    Zero and negative values give 1, so an empty or all-zero chart still has a scale."""
    return _nice_axis(value)[0]


def format_number(value: float, unit: str = "") -> str:
    """A short label for a number: 0, 12, 0.25, 1.5k, 2.3M (at most 3 significant digits).

    `ms` switches to seconds from 1000 ms ("850 ms", "1.2 s"); `%` takes a ratio (0.125 is
    "12.5%"); any other unit follows the number after a space. A non-finite value is a dash."""
    if not math.isfinite(value):
        return MISSING
    if unit == "%":
        return _trim(f"{value * 100:.1f}") + "%"
    if unit == "ms":
        if abs(_significant(value)) >= 1000:
            return f"{_compact(value / 1000, max_decimals=1)} s"
        return f"{_compact(value)} ms"
    number = _compact(value)
    return f"{number} {unit}" if unit else number


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 28, label: str) -> str:
    """A bare line scaled between the series' own minimum and maximum (it shows shape, not size).

    Missing values are skipped but keep their x position, so time is not compressed; the line
    joins across them because a gap is not legible at this size. One value is a dot; no value at
    all is a dashed baseline with the label, so the cell does not collapse."""
    _check_size(width, height, 8, 8)
    pad = 2.0
    points = [(i, v) for i, v in enumerate(_floats(values)) if v is not None]
    n = len(values)
    lo = min((v for _, v in points), default=0.0)
    hi = max((v for _, v in points), default=0.0)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + i * (width - 2 * pad) / (n - 1) if n > 1 else width / 2
        y = height - pad - (v - lo) / (hi - lo) * (height - 2 * pad) if hi > lo else height / 2
        return x, y

    coords = [xy(i, v) for i, v in points]
    if not coords:
        body = _line(pad, height - pad, width - pad, height - pad, class_="baseline", stroke_dasharray="2 2", **_THIN)
        body += _tag(
            "text",
            _text(label),
            class_="no-data",
            x=pad,
            y=(height - pad) / 2,
            fill="currentColor",
            font_size=min(FONT_SIZE, height * 0.4),
            dominant_baseline="middle",
        )
    elif len(coords) == 1:
        x, y = coords[0]
        body = _tag("circle", class_="sparkline-dot", cx=x, cy=y, r=2, fill="currentColor")
    else:
        body = _tag("polyline", class_="sparkline-line", points=_points(coords), fill="none", **_LINE_STROKE)
    return _svg(width=width, height=height, label=label, class_="sparkline", body=[body])


def line_chart(
    series: Sequence[Series],
    *,
    x_labels: Sequence[str],
    title: str,
    unit: str = "",
    width: int = 600,
    height: int = 200,
    y_max: float | None = None,
) -> str:
    """Lines over a shared x axis, with a 0-based y axis, grid and (for several series) a legend.

    Missing values break a line into separate polylines rather than bridging the gap, since a
    bridge would invent data; a value alone between gaps is a dot. `y_max` is a floor for the
    axis top, so a quiet series does not look alarming by filling the chart (a ratio passes 1);
    larger values still fit. Negative values sit on the baseline."""
    for s in series:
        if len(s.values) != len(x_labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(x_labels)} x labels")
    if y_max is not None and not math.isfinite(y_max):
        raise ValueError(f"y_max must be finite, got {y_max!r}")
    _check_size(width, height, LEFT + RIGHT + 40, TOP + LEGEND + BOTTOM + 40)
    columns = [_floats(s.values) for s in series]
    present = [v for column in columns for v in column if v is not None]
    box = _Box(LEFT, TOP + (LEGEND if len(series) > 1 else 0), width - RIGHT, height - BOTTOM)
    top, intervals = _nice_axis(max([0.0, y_max or 0.0, *present]))
    n = len(x_labels)

    def x_of(i: int) -> float:
        return box.x0 + i * box.width / (n - 1) if n > 1 else box.x0 + box.width / 2

    body = _y_axis(box, top, intervals, unit)
    ticks, labels = [], []
    shown = _tick_indices(n)
    for i in shown:
        # The end labels are anchored inwards so they do not run off the chart.
        anchor = "middle" if len(shown) == 1 or 0 < i < n - 1 else ("start" if i == 0 else "end")
        ticks.append(_line(x_of(i), box.y1, x_of(i), box.y1 + 4))
        labels.append(_tag("text", _text(x_labels[i]), class_="tick", x=x_of(i), y=box.y1 + 16, text_anchor=anchor))
    body.append(_tag("g", "".join(ticks), class_="axis", **_THIN))
    body.append(_tag("g", "".join(labels), class_="x-axis", fill="currentColor", font_size=FONT_SIZE))

    for index, (s, column) in enumerate(zip(series, columns, strict=True)):
        shapes = []
        for run in _runs(column):
            coords = [(x_of(i), box.y_of(v, top)) for i, v in run]
            if len(coords) == 1:
                # r 1 under the group's stroke width of 2 is a solid dot in the series' colour.
                shapes.append(_tag("circle", cx=coords[0][0], cy=coords[0][1], r=1))
            else:
                shapes.append(_tag("polyline", points=_points(coords)))
        colour = PALETTE[index % len(PALETTE)]
        attrs = {**_LINE_STROKE, "stroke_width": 2, "stroke": colour}
        body.append(_tag("g", "".join(shapes), class_=f"series {s.css_class}", fill="none", **attrs))

    if len(series) > 1:
        body.append(_legend(series, box.x0, TOP + LEGEND / 2))
    if not present:
        body.append(_no_data(box))
    return _svg(width=width, height=height, label=title, class_="chart line-chart", body=body)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 600,
    height: int = 200,
    highlight: Callable[[str, float], bool] | None = None,
) -> str:
    """Vertical bars on a 0-based axis, one per (label, value), in the given order.

    Each bar sits in a <g> whose <title> holds the full label and the value, so hovering shows
    both even when the label under the bar is truncated. Bars for which `highlight(label, value)`
    is true get the class `bar-alert` too. A non-finite value keeps its slot and label, no bar."""
    _check_size(width, height, LEFT + RIGHT + 40, TOP + BOTTOM + 40)
    values = _floats([value for _, value in bars])
    present = [v for v in values if v is not None]
    box = _Box(LEFT, TOP, width - RIGHT, height - BOTTOM)
    top, intervals = _nice_axis(max([0.0, *present]))

    body = _y_axis(box, top, intervals, unit)
    slot = box.width / max(len(bars), 1)
    bar_width = min(slot * 0.7, 48)
    groups = []
    for i, ((label, _), value) in enumerate(zip(bars, values, strict=True)):
        centre = box.x0 + slot * (i + 0.5)
        shown = NO_DATA if value is None else format_number(value, unit)
        parts = _tag("title", _text(f"{label}: {shown}"))
        if value is not None:
            alert = highlight is not None and highlight(label, value)
            y = box.y_of(value, top)
            parts += _tag(
                "rect",
                class_="bar bar-alert" if alert else "bar",
                x=centre - bar_width / 2,
                y=y,
                width=bar_width,
                height=box.y1 - y,
                fill=ALERT_FILL if alert else PALETTE[0],
            )
        short = _truncate(str(label), LABEL_CHARS)
        parts += _tag("text", _text(short), class_="tick", x=centre, y=box.y1 + 14, text_anchor="middle")
        groups.append(_tag("g", parts))
    body.append(_tag("g", "".join(groups), class_="bars", fill="currentColor", font_size=FONT_SIZE))
    if not present:
        body.append(_no_data(box))
    return _svg(width=width, height=height, label=title, class_="chart bar-chart", body=body)


@dataclass(frozen=True)
class _Box:
    """The plot area inside the margins, in viewBox units (y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    def y_of(self, value: float, top: float) -> float:
        return self.y1 - min(max(value, 0.0), top) / top * (self.y1 - self.y0)


def _nice_axis(value: float) -> tuple[float, int]:
    """The top of a 0-based axis that holds `value`, and how many intervals to divide it in."""
    if not math.isfinite(value):
        raise ValueError(f"cannot scale an axis to {value!r}")
    if value <= 0:
        return 1.0, 4
    if not 1e-300 < value < 1e300:
        # Powers of ten this far out overflow a float: keep the value itself as the top.
        return float(value), 4
    k = math.floor(math.log10(value)) - 1  # one decade low, in case log10 rounded up
    while True:
        for mantissa, intervals in _NICE:
            # Dividing by an exact power of ten keeps 0.25 exact where 2.5 * 0.1 would not be.
            top = mantissa * 10.0**k if k >= 0 else mantissa / 10.0**-k
            if top >= value:
                return top, intervals
        k += 1


def _y_axis(box: _Box, top: float, intervals: int, unit: str) -> list[str]:
    """Grid lines, both axis lines and the y tick labels."""
    grid, labels = [], []
    for i in range(intervals + 1):
        tick = top * i / intervals
        y = box.y_of(tick, top)
        if i:  # the x axis is the grid line at 0
            grid.append(_line(box.x0, y, box.x1, y))
        label = _text(format_number(tick, unit))
        labels.append(_tag("text", label, class_="tick", x=box.x0 - 6, y=y, dominant_baseline="middle"))
    axes = _line(box.x0, box.y0, box.x0, box.y1) + _line(box.x0, box.y1, box.x1, box.y1)
    return [
        _tag("g", "".join(grid), class_="grid", stroke_opacity="0.15", **_THIN),
        _tag("g", axes, class_="axis", **_THIN),
        _tag("g", "".join(labels), class_="y-axis", fill="currentColor", font_size=FONT_SIZE, text_anchor="end"),
    ]


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    items = []
    for index, s in enumerate(series):
        name = _truncate(str(s.name), LEGEND_CHARS)
        colour = PALETTE[index % len(PALETTE)]
        items.append(_line(x, y, x + 14, y, class_=f"swatch {s.css_class}", stroke=colour, stroke_width=2))
        items.append(_tag("text", _text(name), x=x + 18, y=y, dominant_baseline="middle"))
        # No font metrics in pure Python: about 6 units per character at font size 10.
        x += 18 + 6 * len(name) + 14
    return _tag("g", "".join(items), class_="legend", fill="currentColor", font_size=FONT_SIZE)


def _no_data(box: _Box) -> str:
    return _tag(
        "text",
        _text(NO_DATA),
        class_="no-data",
        x=box.x0 + box.width / 2,
        y=(box.y0 + box.y1) / 2,
        fill="currentColor",
        font_size=FONT_SIZE + 2,
        text_anchor="middle",
        dominant_baseline="middle",
    )


def _svg(*, width: int, height: int, label: str, class_: str, body: list[str]) -> str:
    # <title> comes first: screen readers and tooltips take the first one.
    return _tag(
        "svg",
        _tag("title", _text(label)) + "".join(body),
        xmlns=SVG_NS,
        viewBox=f"0 0 {_n(width)} {_n(height)}",
        width="100%",
        preserveAspectRatio=ASPECT,
        role="img",
        aria_label=str(label),
        class_=class_,
    )


def _tag(name: str, body: str | None = None, /, **attrs: Attr) -> str:
    """One element. `body` is markup; attribute names map `class_` to `class` and `_` to `-`,
    string values are escaped and numbers rounded."""
    rendered = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{_esc(value) if isinstance(value, str) else _n(value)}"'
        for key, value in attrs.items()
    )
    return f"<{name}{rendered}/>" if body is None else f"<{name}{rendered}>{body}</{name}>"


def _line(x1: float, y1: float, x2: float, y2: float, **attrs: Attr) -> str:
    return _tag("line", x1=x1, y1=y1, x2=x2, y2=y2, **attrs)


def _esc(value: str) -> str:
    return html.escape(_XML_INVALID.sub("", value), quote=True)


def _text(value: object) -> str:
    return _esc(str(value))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _n(x: float) -> str:
    """A coordinate rounded to one decimal, without a trailing `.0`."""
    if not math.isfinite(x):
        raise ValueError(f"non-finite coordinate {x!r}")  # a bug here: inputs are filtered
    return _trim(f"{x:.1f}")


def _points(coords: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)


def _floats(values: Sequence[float | None]) -> list[float | None]:
    """Finite floats, None where a value is missing or not a finite number (Decimal is fine)."""
    result: list[float | None] = []
    for value in values:
        try:
            number = float(value)  # type: ignore[arg-type]  # None raises TypeError
        except (TypeError, ValueError):
            number = math.nan
        result.append(number if math.isfinite(number) else None)
    return result


def _runs(column: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """(index, value) runs between missing values."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(column):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if run]


def _tick_indices(n: int) -> list[int]:
    """Up to MAX_X_TICKS evenly spread indices, always the first and the last."""
    if n <= MAX_X_TICKS:
        return list(range(n))
    return sorted({round(i * (n - 1) / (MAX_X_TICKS - 1)) for i in range(MAX_X_TICKS)})


def _check_size(width: int, height: int, min_width: int, min_height: int) -> None:
    if width < min_width or height < min_height:
        raise ValueError(f"a {width}x{height} chart is too small (at least {min_width}x{min_height})")


def _significant(value: float) -> float:
    # Rounding to 3 significant digits first makes 999.96 a 1000, so it is shown as "1k".
    return float(f"{value:.3g}")


def _compact(value: float, max_decimals: int = 6) -> str:
    rounded = _significant(value)
    magnitude = abs(rounded)
    if magnitude == 0:
        return "0"
    sign = "-" if rounded < 0 else ""
    for divisor, suffix in _SUFFIXES:
        if magnitude >= divisor:
            scaled = magnitude / divisor
            return sign + _trim(f"{scaled:.{1 if scaled < 100 else 0}f}") + suffix
    decimals = min(max(0, 2 - math.floor(math.log10(magnitude))), max_decimals)
    text = _trim(f"{magnitude:.{decimals}f}")
    return text if text == "0" else sign + text


def _trim(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
