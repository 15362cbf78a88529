"""The events table partitioned by time on PostgreSQL: one partition per UTC day of `occurred_at`
and a DEFAULT partition, so that retention drops a whole day instead of deleting its rows one batch
at a time, and an insert whose day has no partition yet still succeeds (the daily
`projects.tasks.events_partitions_ensure` makes them ahead; `projects.events.partitions`).

Other databases (the embedded SQLite) keep the plain table: this migration does nothing there.
Django's model state is unchanged (the table keeps its name, columns and index names), so no
later `makemigrations` sees a difference.

How: under an exclusive lock, a partitioned copy of the table is made from the table itself
(`LIKE`, so the columns are whatever the earlier migrations left), with a partition for each day
that has rows and for today and the days ahead; the rows are copied, the old table dropped and the
copy renamed. Its indexes, foreign keys and sequences are then made again from the catalog's own
definitions. A unique key of a partitioned table must contain the partition key:

- the primary key (`id`, from a sequence) is widened to (`id`, `occurred_at`);
- any other unique key (the event's own `key`, which makes a delivery of an event twice a no-op) is
  kept per partition instead: UNIQUE (`key`) on each day's partition and on DEFAULT, which the
  insert's ON CONFLICT DO NOTHING honours. Widening it by `occurred_at` would not do: the copies of
  a pre-order carry the key of its form token but each its own instant, and would all be stored.
  Per day, a token counts once a UTC day (its token lives 24 hours: at most once more after a
  midnight). Each partition made later copies these from DEFAULT (`partitions.ensure`).

Each changed index says what it was in its comment, from which going back makes the original.

Reversible: going back copies the rows into a plain table again, with the original indexes.
Nothing may reference the events table by a foreign key (a partitioned table's unique keys all
include `occurred_at`): the migration stops with an error if something does. A later migration
that alters the `key` field must handle its per-partition indexes itself.

The copy holds the table for its duration (reads and writes wait): run it with the event worker
stopped, while the pages keep buffering in Redis (docs/OPERATIONS.md, "Event partitions").
This module does not import the app's code: a migration must run the same way whatever the
app's modules later become.
"""

import json
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import migrations

TABLE = "projects_event"
KEY = "occurred_at"
# The comment on the primary key once widened by the partition key.
WIDENED = "widened by occurred_at for the partitioning by day (projects: event partitions)"
# The comment on each per-partition unique index starts so, followed by the original (JSON).
PER_PARTITION = "unique per partition of projects_event, originally: "


def _string(text: str) -> str:
    """An SQL string literal (DDL takes no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _day_bounds(day: date) -> tuple[str, str]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return _string(start.isoformat()), _string((start + timedelta(days=1)).isoformat())


def _unqualified(name: str) -> str:
    """'public.projects_event_id_seq' -> 'projects_event_id_seq'."""
    return name.rpartition(".")[2].strip('"')


def _first_group_end(definition: str) -> int:
    """The position of the parenthesis that closes the definition's first column list."""
    depth = 0
    for position in range(definition.index("("), len(definition)):
        if definition[position] == "(":
            depth += 1
        elif definition[position] == ")":
            depth -= 1
            if depth == 0:
                return position
    raise RuntimeError(f"unbalanced definition {definition!r}")


def _columns_of(definition: str) -> list[str]:
    start, end = definition.index("("), _first_group_end(definition)
    return [c.strip().strip('"') for c in definition[start + 1 : end].split(",")]


def _widen(definition: str) -> str:
    """'PRIMARY KEY (id)' -> 'PRIMARY KEY (id, occurred_at)'."""
    end = _first_group_end(definition)
    return f"{definition[:end]}, {KEY}{definition[end:]}"


def _narrow(definition: str) -> str:
    """The inverse of `_widen`."""
    end, suffix = _first_group_end(definition), f", {KEY}"
    if not definition[:end].endswith(suffix):
        raise RuntimeError(f"cannot narrow {definition!r}: its columns do not end with {KEY}")
    return definition[: end - len(suffix)] + definition[end:]


def _children(cursor) -> list[str]:
    cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [TABLE])
    return [row[0] for row in cursor.fetchall()]


def _swap(cursor, quote, *, to_partitioned: bool, today: date, days_ahead: int) -> None:
    """Replace TABLE by a partitioned (or plain) table holding the same rows, indexes, foreign keys
    and sequences."""
    cursor.execute(f"LOCK TABLE {quote(TABLE)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(
        "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    referencing = cursor.fetchall()
    if referencing:
        raise RuntimeError(
            f"{TABLE} is referenced by foreign keys {referencing}: a partitioned table cannot be referenced "
            f"by its id alone (every unique key includes {KEY})"
        )
    # What to make again on the new table, read before the old one goes. Index definitions of a
    # partitioned table read "ON ONLY table": made again on a plain one without the ONLY.
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid), x.indisunique, c.conname, c.contype,
               pg_get_constraintdef(c.oid), obj_description(i.oid, 'pg_class')
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = x.indrelid
        WHERE x.indrelid = %s::regclass
        ORDER BY c.contype = 'p' DESC NULLS LAST, i.relname
        """,
        [TABLE],
    )
    indexes = cursor.fetchall()
    # Going back: the unique keys kept per partition, as they were on the plain table.
    cursor.execute(
        """
        SELECT DISTINCT obj_description(x.indexrelid, 'pg_class')
        FROM pg_inherits h JOIN pg_index x ON x.indrelid = h.inhrelid
        WHERE h.inhparent = %s::regclass AND obj_description(x.indexrelid, 'pg_class') LIKE %s
        """,
        [TABLE, PER_PARTITION + "%"],
    )
    per_partition_before = [json.loads(row[0][len(PER_PARTITION) :]) for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    foreign_keys = cursor.fetchall()
    # Each column's sequence: an identity's (made anew by LIKE ... INCLUDING IDENTITY, given the
    # old one's position), or a serial's (the copied default uses it; it changes owner).
    cursor.execute(
        """
        SELECT a.attname, a.attidentity, pg_get_serial_sequence(%s, a.attname)
        FROM pg_attribute a
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND pg_get_serial_sequence(%s, a.attname) IS NOT NULL
        """,
        [TABLE, TABLE, TABLE],
    )
    sequences = cursor.fetchall()

    new = f"{TABLE}_{'partitioned' if to_partitioned else 'plain'}"
    like = (
        f"LIKE {quote(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING GENERATED "
        "INCLUDING STORAGE INCLUDING COMMENTS INCLUDING COMPRESSION"
    )
    partitioning = f" PARTITION BY RANGE ({quote(KEY)})" if to_partitioned else ""
    cursor.execute(f"CREATE TABLE {quote(new)} ({like}){partitioning}")
    if to_partitioned:
        # A partition for every day that has rows (those past the retention are dropped whole by the
        # next prune) and for today and the days ahead; DEFAULT for anything else.
        cursor.execute(f"SELECT DISTINCT ({quote(KEY)} AT TIME ZONE 'UTC')::date FROM {quote(TABLE)}")  # noqa: S608
        days = {row[0] for row in cursor.fetchall()}
        days |= {today + timedelta(days=n) for n in range(days_ahead + 1)}
        for day in sorted(days):
            start, end = _day_bounds(day)
            cursor.execute(
                f"CREATE TABLE {quote(f'{TABLE}_p{day:%Y%m%d}')} PARTITION OF {quote(new)} "
                f"FOR VALUES FROM ({start}) TO ({end})"
            )
        cursor.execute(f"CREATE TABLE {quote(TABLE + '_default')} PARTITION OF {quote(new)} DEFAULT")
    # The same column order (LIKE keeps it), the ids as they are.
    cursor.execute(f"INSERT INTO {quote(new)} OVERRIDING SYSTEM VALUE SELECT * FROM {quote(TABLE)}")  # noqa: S608

    positions = {}
    for column, identity, sequence in sequences:
        if identity:
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
            positions[column] = (sequence, *cursor.fetchone())
        else:
            cursor.execute(f"ALTER SEQUENCE {sequence} OWNED BY {quote(new)}.{quote(column)}")
    cursor.execute(f"DROP TABLE {quote(TABLE)}")  # its indexes, constraints and identity sequences too
    cursor.execute(f"ALTER TABLE {quote(new)} RENAME TO {quote(TABLE)}")
    for column, (old_sequence, last_value, is_called) in positions.items():
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [TABLE, column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
        # The old name again (Django finds it by the column; people by its name).
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {quote(_unqualified(old_sequence))}")

    per_partition = []
    for name, indexdef, unique, constraint, kind, condef, comment in indexes:
        indexdef = indexdef.replace(" ON ONLY ", " ON ", 1)
        definition = condef if constraint else indexdef
        if to_partitioned and unique and KEY not in _columns_of(definition):
            if kind == "x":
                raise RuntimeError(f"exclusion constraint {constraint} cannot be kept on a partitioned table")
            if kind != "p":
                per_partition.append({"name": name, "constraint": bool(constraint), "definition": definition})
                continue
            definition = _widen(definition)
        elif not to_partitioned and comment == WIDENED:
            definition = _narrow(definition)
        if constraint:
            cursor.execute(f"ALTER TABLE {quote(TABLE)} ADD CONSTRAINT {quote(constraint)} {definition}")
        else:
            cursor.execute(definition)
        if to_partitioned and kind == "p" and definition != condef:
            cursor.execute(f"COMMENT ON INDEX {quote(name)} IS {_string(WIDENED)}")
    if to_partitioned:
        for original in per_partition:
            _make_per_partition(cursor, quote, original, next(i[1] for i in indexes if i[0] == original["name"]))
    for original in per_partition_before:
        if original["constraint"]:
            cursor.execute(f"ALTER TABLE {quote(TABLE)} ADD CONSTRAINT {quote(original['name'])} {original['definition']}")
        else:
            cursor.execute(original["definition"])
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quote(TABLE)} ADD CONSTRAINT {quote(name)} {definition}")
    # The planner's statistics of the new table (autovacuum never analyses a partitioned parent).
    cursor.execute(f"ANALYZE {quote(TABLE)}")


def _make_per_partition(cursor, quote, original: dict, indexdef: str) -> None:
    """The unique index `original` (on TABLE) made on each partition instead, saying what it was."""
    method = indexdef[indexdef.index(" USING ") :]  # " USING btree (key)", with any INCLUDE or WHERE
    columns = "_".join(_columns_of(indexdef))
    for child in _children(cursor):
        name = f"{child}_{columns}"[:58] + "_uniq"
        cursor.execute(f"CREATE UNIQUE INDEX {quote(name)} ON {quote(child)}{method}")
        cursor.execute(f"COMMENT ON INDEX {quote(name)} IS {_string(PER_PARTITION + json.dumps(original))}")


def partition(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        _swap(
            cursor,
            connection.ops.quote_name,
            to_partitioned=True,
            today=datetime.now(UTC).date(),
            days_ahead=settings.EVENT_PARTITION_DAYS_AHEAD,
        )


def unpartition(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        _swap(cursor, connection.ops.quote_name, to_partitioned=False, today=datetime.now(UTC).date(), days_ahead=0)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0020_insights"),
    ]

    operations = [migrations.RunPython(partition, unpartition)]
