"""Daily ad spend from a CSV file, as ad platforms export it (pure: no Django).

    date,spend,impressions,clicks
    2026-11-01,42.50,12000,310

The header names the columns (any order, any letter case; `cost` is read as `spend`, `day` as
`date`); impressions and clicks may be left out. Every bad line is reported with its line
number (the header is line 1), and a file with any bad line is refused whole: importing nothing
makes a retry after a fix safe, and importing a good file twice leaves the same rows (one per
day, overwritten). A day after ``today`` (the caller's today: the server's time zone) is refused:
an ad platform reports what was spent, and a day that has not begun has spent nothing yet.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

MAX_ROWS = 5_000
MAX_BYTES = 1_000_000
MAX_SPEND = Decimal("1000000000")
ALIASES = {"cost": "spend", "amount": "spend", "day": "date"}
REQUIRED = ("date", "spend")
# The oldest spend day taken: two years before today. A test of an idea runs for weeks (the demo data
# and the tests enter spend up to about 60 days back), so a day older than this is a mistyped year
# (0001, 1026), not a report: refused, it can never be stored to stretch the campaign's chart over centuries.
OLDEST_SPEND_DAYS = 731
OPTIONAL = ("impressions", "clicks")


@dataclass(frozen=True)
class SpendRow:
    line: int
    date: date
    spend: Decimal
    impressions: int
    clicks: int


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "message": self.message}


def _count(raw: str, field: str, line: int, errors: list[LineError]) -> int:
    text = raw.strip().replace(",", "")
    if not text:
        return 0
    if not text.isdigit() or len(text) > 15:
        errors.append(LineError(line, field, f"{field} must be a whole number of 0 or more, not {raw!r}."))
        return 0
    return int(text)


def _decimal_places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    # The exponent is a letter ("n", "N", "F") only for NaN and infinities, which are refused before this is asked.
    return -exponent if isinstance(exponent, int) else 0


def future_day_error(day: date, *, today: date, zone: str, line: int) -> LineError | None:
    """The error of a spend day after ``today`` in time zone ``zone`` (None for today or earlier)."""
    if day <= today:
        return None
    return LineError(line, "date", f"{day} is in the future (today is {today}, {zone}): spend is entered once spent.")


def day_error(
    day: date,
    *,
    today: date | None,
    zone: str,
    line: int,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> LineError | None:
    """The one set of rules for a spend day, whichever way it is entered (the form, a file, the API's
    rows): inside the campaign (``starts_on`` to ``ends_on``, each when set), not after ``today``
    (in time zone ``zone``) and not more than OLDEST_SPEND_DAYS before it; with no ``today``, only the
    campaign's dates are judged. None when the day is fine."""
    if (starts_on and day < starts_on) or (ends_on and day > ends_on):
        return LineError(line, "date", f"{day} is outside the campaign ({starts_on or '…'} to {ends_on or '…'}).")
    if today is None:
        return None
    if future := future_day_error(day, today=today, zone=zone, line=line):
        return future
    oldest = today - timedelta(days=OLDEST_SPEND_DAYS)
    if day < oldest:
        return LineError(
            line, "date", f"{day} is more than two years ago (the oldest day taken is {oldest}): check the year."
        )
    return None


def parse(
    data: bytes | str,
    *,
    starts_on: date | None = None,
    ends_on: date | None = None,
    today: date | None = None,
    zone: str = "",
) -> tuple[list[SpendRow], list[LineError]]:
    """The rows of a spend file, or the errors that refuse it (rows are [] when there are any). With ``today``
    (in time zone ``zone``, named in the message), a day after it is a bad line."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            return [], [LineError(0, "file", f"The file is larger than {MAX_BYTES // 1000} kB.")]
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [LineError(0, "file", "The file is not UTF-8 text.")]
    if "\x00" in data:
        return [], [LineError(0, "file", "The file is not a text CSV file.")]
    reader = csv.reader(io.StringIO(data))
    try:
        header = next(reader)
    except StopIteration:
        return [], [LineError(0, "file", "The file is empty.")]
    except csv.Error as exc:
        return [], [LineError(1, "file", f"Not a CSV file: {exc}.")]
    names = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        return [], [
            LineError(
                1, "header", f"Missing column(s): {', '.join(missing)} (expected date,spend[,impressions,clicks])."
            )
        ]
    unknown = [name for name in names if name and name not in (*REQUIRED, *OPTIONAL)]
    if unknown:
        return [], [LineError(1, "header", f"Unknown column(s): {', '.join(unknown)}.")]
    position = {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    rows: list[SpendRow] = []
    errors: list[LineError] = []
    seen: dict[date, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # a blank line
            if len(rows) + len(errors) >= MAX_ROWS:
                return [], [LineError(line, "file", f"More than {MAX_ROWS} rows: split the file.")]
            if len(values) != len(names):
                errors.append(LineError(line, "row", f"Expected {len(names)} values, found {len(values)}."))
                continue
            before = len(errors)
            raw_date = values[position["date"]].strip()
            day: date | None
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                errors.append(LineError(line, "date", f"date must be YYYY-MM-DD, not {raw_date!r}."))
                day = None
            raw_spend = values[position["spend"]].strip().lstrip("$€£").replace(",", "")
            try:
                spend = Decimal(raw_spend)
                if not spend.is_finite() or spend < 0 or spend > MAX_SPEND or _decimal_places(spend) > 2:
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(
                    LineError(
                        line,
                        "spend",
                        f"spend must be an amount of 0 or more with at most 2 decimals, not {raw_spend!r}.",
                    )
                )
                spend = Decimal(0)
            impressions = (
                _count(values[position["impressions"]], "impressions", line, errors) if "impressions" in position else 0
            )
            clicks = _count(values[position["clicks"]], "clicks", line, errors) if "clicks" in position else 0
            if impressions and clicks > impressions:
                errors.append(LineError(line, "clicks", f"{clicks} clicks is more than the {impressions} impressions."))
            if day is not None:
                if day in seen:
                    errors.append(LineError(line, "date", f"{day} is already on line {seen[day]}."))
                elif error := day_error(day, today=today, zone=zone, line=line, starts_on=starts_on, ends_on=ends_on):
                    errors.append(error)
                seen.setdefault(day, line)
            if len(errors) == before and day is not None:
                rows.append(SpendRow(line=line, date=day, spend=spend, impressions=impressions, clicks=clicks))
    except csv.Error as exc:
        errors.append(LineError(reader.line_num, "file", f"Not a CSV file: {exc}."))
    if errors:
        return [], errors
    if not rows:
        return [], [LineError(0, "file", "The file has no rows.")]
    return rows, []
