"""The rollup's writes: what a batch adds (`projects.events.rollup`'s pure `contributions` and
`breakdown_contributions`) written into the daily rollups, the breakdowns, the experiments'
exposures and their variants' counts.

Each table: one read of the rows the batch touches (plain tuples, no model instances), then the
rows' new figures in one upsert (INSERT ... ON CONFLICT DO UPDATE; on SQLite, one per 500 rows),
built here rather than by the ORM's bulk methods, whose per-value preparation cost more than the
database's work.
The new figures are absolute, never increments: an INSERT's proposed row must pass the tables'
checks even when it conflicts, and an increment can be negative (a bounce undone). Called inside
the rollup transaction of the shard that owns the batch's pages, so no other transaction writes
these rows meanwhile and the read-then-write is exact.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Model

from projects.models import BreakdownRollup, DailyRollup, ExperimentExposure, Variant

CHUNK = 500
FLAGS = ("confirmed", "clicked", "signed_up", "preordered")

RowKey = tuple[int, date, int | None, str, str, str]  # page, day, experiment, variant, channel, traffic
BreakdownKey = tuple[int, date, str, str, str]  # page, day, dimension, value, traffic


def _upsert(model: type[Model], columns: Sequence[str], conflict: str, update: Sequence[str], rows: list[Any]) -> None:
    """INSERT `rows` (tuples in `columns` order) ON CONFLICT (`conflict`) DO UPDATE SET each of
    `update` to the proposed row's value."""
    if not rows:
        return
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
    tail = f" ON CONFLICT ({conflict}) DO UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Every row in one statement, a typed array per column: psycopg passes a few
            # parameters instead of parsing a placeholder per value (twice as fast here).
            types = {f.attname: f.db_type(connection) for f in model._meta.concrete_fields}
            arrays = ", ".join(f"%s::{types[c]}[]" for c in columns)
            sql = f"{head}SELECT * FROM unnest({arrays}){tail}"  # noqa: S608 - names and types from the model
            cursor.execute(sql, [list(c) for c in zip(*rows, strict=True)])
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join([one] * len(chunk))
            cursor.execute(f"{head}VALUES {values}{tail}", [value for row in chunk for value in row])


def _day(value: date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def add_daily(rows: dict[RowKey, dict[str, int]], figures: Sequence[str]) -> None:
    """The daily rollups plus `rows` (each row key's figures to add)."""
    if not rows:
        return
    keys = ("page_id", "day", "experiment_id", "variant", "channel", "traffic")
    existing = {
        row[:6]: row[6:]
        for row in DailyRollup.objects.filter(
            page_id__in={k[0] for k in rows}, day__in={k[1] for k in rows}
        ).values_list(*keys, *figures)
    }
    out = []
    for key, adds in rows.items():
        base = existing.get(key) or (0,) * len(figures)
        page_id, day, experiment_id, variant, channel, traffic = key
        new = (b + adds[name] for b, name in zip(base, figures, strict=True))
        out.append((page_id, _day(day), experiment_id, variant, channel, traffic, *new))
    # The unique index of `rollup_unique_row`: a row outside any experiment has experiment 0 there.
    conflict = '"page_id", "day", (COALESCE("experiment_id", 0)), "variant", "channel", "traffic"'
    _upsert(DailyRollup, (*keys, *figures), conflict, figures, out)


def add_breakdowns(rows: dict[BreakdownKey, dict[str, int]], figures: Sequence[str]) -> None:
    """The breakdowns plus `rows`; a figure never below 0 (a day whose rows were deleted and not
    rebuilt yet may take away what it no longer holds)."""
    if not rows:
        return
    keys = ("page_id", "day", "dimension", "value", "traffic")
    existing = {
        row[:5]: row[5:]
        for row in BreakdownRollup.objects.filter(
            page_id__in={k[0] for k in rows}, day__in={k[1] for k in rows}, value__in={k[3] for k in rows}
        ).values_list(*keys, *figures)
    }
    out = []
    for key, adds in rows.items():
        base = existing.get(key) or (0,) * len(figures)
        page_id, day, dimension, value, traffic = key
        new = (max(0, b + adds[name]) for b, name in zip(base, figures, strict=True))
        out.append((page_id, _day(day), dimension, value, traffic, *new))
    _upsert(BreakdownRollup, (*keys, *figures), ", ".join(f'"{k}"' for k in keys), figures, out)


def add_exposures(exposures: dict[tuple[int, str], dict[str, Any]]) -> None:
    """The people in experiments: each (experiment, visitor) seen, with what they did, and what
    that adds to their variant's people and converted counts (see `Variant`)."""
    if not exposures:
        return
    known = {
        (experiment_id, visitor): (variant, flags)
        for experiment_id, visitor, variant, *flags in ExperimentExposure.objects.filter(
            experiment_id__in={k[0] for k in exposures}, visitor_hash__in={k[1] for k in exposures}
        ).values_list("experiment_id", "visitor_hash", "variant", *FLAGS)
    }
    out = []
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for (experiment_id, visitor), seen in exposures.items():
        stored = known.get((experiment_id, visitor))
        variant, before = stored or (seen["variant"], [False] * len(FLAGS))
        after = [b or seen[f] for b, f in zip(before, FLAGS, strict=True)]
        if stored is not None and after == before:
            continue  # nothing new about a person already counted
        out.append(
            (experiment_id, visitor, variant, connection.ops.adapt_datetimefield_value(seen["first_seen"]), *after)
        )
        # A person: confirmed (ran the script or interacted); converted: confirmed and signed up.
        tally = counts[(experiment_id, variant)]
        tally[0] += int(after[0]) - int(before[0])
        tally[1] += int(after[0] and after[2]) - int(before[0] and before[2])
    columns = ("experiment_id", "visitor_hash", "variant", "first_seen", *FLAGS)
    _upsert(ExperimentExposure, columns, '"experiment_id", "visitor_hash"', FLAGS, out)
    _add_to_variants({key: tally for key, tally in counts.items() if any(tally)})


def _add_to_variants(counts: dict[tuple[int, str], list[int]]) -> None:
    """Each variant's people and converted counts plus these, in one UPDATE."""
    if not counts:
        return
    table = connection.ops.quote_name(Variant._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(counts))
    sql = (
        f"WITH v(experiment_id, variant, people, converted) AS (VALUES {values}) "  # noqa: S608 - a table name
        f"UPDATE {table} SET people = {table}.people + v.people, converted = {table}.converted + v.converted "
        f'FROM v WHERE {table}.experiment_id = v.experiment_id AND {table}."key" = v.variant'
    )
    params: list[Any] = [value for (exp, key), tally in counts.items() for value in (exp, key, *tally)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
