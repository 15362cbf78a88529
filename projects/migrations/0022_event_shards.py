"""Events written once: each row gets its page's shard and a number in the shard's sequence, and
each shard a rollup state whose high-water mark says which rows are rolled up; the `rolled_up`
flag (an UPDATE of every row after its INSERT) and its partial index go.

The rows stored before are numbered per shard with the rolled-up ones first (in id order, then
the others in id order), so each shard's mark is its count of rows rolled up: exact whatever
order they were rolled up in."""

from django.conf import settings
from django.db import migrations, models

NUMBER_ROWS = """
UPDATE {event} SET shard = numbered.shard, seq = numbered.seq
FROM (
    SELECT id, page_id % {shards} AS shard,
           ROW_NUMBER() OVER (
               PARTITION BY page_id % {shards} ORDER BY CASE WHEN rolled_up THEN 0 ELSE 1 END, id
           ) AS seq
    FROM {event}
) AS numbered
WHERE {event}.id = numbered.id
"""

COUNT_ROWS = """
SELECT shard, SUM(CASE WHEN rolled_up THEN 1 ELSE 0 END), MAX(seq), COUNT(*) FROM {event} GROUP BY shard
"""

FLAG_ROWS = """
UPDATE {event} SET rolled_up = (
    seq <= COALESCE((SELECT rolled_up_to FROM {state} WHERE {state}.shard = {event}.shard), 0)
)
"""


def number_rows(apps, schema_editor):
    Event = apps.get_model("projects", "Event")
    EventSequence = apps.get_model("projects", "EventSequence")
    EventWorkerState = apps.get_model("projects", "EventWorkerState")
    quote = schema_editor.connection.ops.quote_name
    event = quote(Event._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(NUMBER_ROWS.format(event=event, shards=int(settings.EVENT_SHARDS)))
        cursor.execute(COUNT_ROWS.format(event=event))
        counts = cursor.fetchall()
    # The single state row of before (shard 0 by the field's default) keeps its totals as shard 0's.
    EventWorkerState.objects.exclude(pk__in=EventWorkerState.objects.order_by("pk").values("pk")[:1]).delete()
    for shard, rolled, last, _rows in counts:
        EventSequence.objects.update_or_create(shard=shard, defaults={"next_seq": last + 1})
        EventWorkerState.objects.update_or_create(shard=shard, defaults={"rolled_up_to": rolled or 0})


def flag_rows(apps, schema_editor):
    Event = apps.get_model("projects", "Event")
    EventWorkerState = apps.get_model("projects", "EventWorkerState")
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FLAG_ROWS.format(event=quote(Event._meta.db_table), state=quote(EventWorkerState._meta.db_table)))


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0021_event_partitions'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventSequence',
            fields=[
                ('shard', models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ('next_seq', models.BigIntegerField(default=1)),
            ],
        ),
        migrations.AddField(
            model_name='event',
            name='shard',
            field=models.PositiveSmallIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='event',
            name='seq',
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='eventworkerstate',
            name='rolled_up_to',
            field=models.BigIntegerField(default=0),
        ),
        # Unique only once every row has its own shard (the one row of before becomes shard 0).
        migrations.AddField(
            model_name='eventworkerstate',
            name='shard',
            field=models.PositiveSmallIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunPython(number_rows, flag_rows),
        migrations.AlterField(
            model_name='eventworkerstate',
            name='shard',
            field=models.PositiveSmallIntegerField(unique=True),
        ),
        migrations.RemoveIndex(
            model_name='event',
            name='event_unrolled_idx',
        ),
        migrations.RemoveField(
            model_name='event',
            name='rolled_up',
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['shard', 'seq'], name='event_shard_seq_idx'),
        ),
    ]
