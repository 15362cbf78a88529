"""The founder's data, for the export offered before the account is deleted (and any time).

A registry: each app that keeps data of a founder registers a kind of rows in its
`AppConfig.ready` (`register("projects", rows_of_projects)`), so accounts knows nothing of
the domain. A kind's function takes the user and yields dicts (one a row, the same keys each);
it should stream big tables (`QuerySet.iterator`). The export is one JSON document with a list
per kind, or CSV: one file per kind, or a zip of them all. CSV cells are defused
(`mvpvalidator.spreadsheet.safe_row`) so a spreadsheet never runs a cell as a formula.
"""

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from mvpvalidator.spreadsheet import safe_row
from security.models import User

Rows = Callable[[User], Iterable[dict[str, Any]]]


@dataclass(frozen=True)
class Kind:
    name: str
    rows: Rows
    columns: tuple[str, ...]  # the CSV header, written even when there is no row


_kinds: dict[str, Kind] = {}


def register(name: str, fn: Rows, *, columns: Sequence[str] = ()) -> None:
    """Add a kind of rows to the export (once per name; registering a name again replaces it,
    so a test or a reloaded app does not end with two)."""
    _kinds[name] = Kind(name=name, rows=fn, columns=tuple(columns))


def kinds() -> list[str]:
    return list(_kinds)


def get(name: str) -> Kind | None:
    return _kinds.get(name)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def json_chunks(user: User, names: Sequence[str] | None = None) -> Iterator[str]:
    """One JSON object, `{"kind": [row, ...], ...}`, in pieces: a row at a time, so a big
    signup table is never held in memory whole."""
    yield "{"
    for i, kind in enumerate(_kinds[n] for n in (names or kinds())):
        yield ("," if i else "") + json.dumps(kind.name) + ":["
        for j, row in enumerate(kind.rows(user)):
            yield ("," if j else "") + json.dumps(row, default=_plain, ensure_ascii=False)
        yield "]"
    yield "}\n"


def _cell(value: Any) -> object:
    # Numbers and dates as `safe_cell` writes them; nested data as JSON text (then defused).
    if isinstance(value, list | dict):
        return json.dumps(value, default=_plain, ensure_ascii=False)
    return value


def csv_lines(user: User, kind: Kind) -> Iterator[str]:
    """One kind as CSV lines (a header, then a row a line), cells defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns: Sequence[str] = kind.columns
    started = False
    for row in kind.rows(user):
        if not started:
            columns = columns or list(row)
            writer.writerow(safe_row(columns))
            started = True
        writer.writerow(safe_row(_cell(row.get(column)) for column in columns))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if not started and columns:
        writer.writerow(safe_row(columns))
    if buffer.tell():
        yield buffer.getvalue()


def csv_zip(user: User) -> IO[bytes]:
    """Every kind as `<kind>.csv` in one zip, in a temporary file (in memory while small),
    rewound for reading."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - the response closes it
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in kinds():
            with archive.open(f"{name}.csv", "w", force_zip64=True) as member:
                for line in csv_lines(user, _kinds[name]):
                    member.write(line.encode("utf-8"))
    spool.seek(0)
    return spool


ACCOUNT_COLUMNS = ("email", "name", "date_joined", "email_confirmed", "signup_digest")


def _account_rows(user: User) -> Iterator[dict[str, Any]]:
    yield {column: getattr(user, column) for column in ACCOUNT_COLUMNS}


# The account's own row, registered with the registry itself so it comes first in every export.
register("account", _account_rows, columns=ACCOUNT_COLUMNS)
