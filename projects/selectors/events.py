"""Reads of the event rollups: a project's funnel (live: the rollups plus what waits to be
rolled up) and its daily figures."""

from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.analysis.money import round_money
from projects.events.ingest import buffered_events
from projects.events.rollup import pending_contribution
from projects.models import CampaignSpend, DailyRollup, Event, LandingPage, Project, Traffic

GROUPINGS = ("day", "variant", "channel")
ANALYTICS_FIGURES = ("views", "visitors", "cta_clicks", "signups", "preorders", "bounces")
# The people behind the rates: each rate is a share of people (who clicked / who visited), never events over
# people (two clicks of one visitor made a click rate of 2.0).
PEOPLE_FIGURES = ("clicked_visitors", "signed_up_visitors", "preordered_visitors")
SUMMED = (*ANALYTICS_FIGURES, *PEOPLE_FIGURES)


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    visitors = row["visitors"]

    def rate(n: int) -> float | None:
        return round(n / visitors, 6) if visitors else None

    return {
        **{name: row[name] for name in ANALYTICS_FIGURES},
        "bounce_rate": rate(row["bounces"]),
        "click_rate": rate(row["clicked_visitors"]),
        "signup_rate": rate(row["signed_up_visitors"]),
        "preorder_rate": rate(row["preordered_visitors"]),
    }


def _group_key(group_by: str, row: dict[str, Any]) -> tuple[Any, ...]:
    """The group of a row, in the order groups are listed. Variants are grouped per experiment:
    one page's successive experiments reuse keys ("control", "b"), which are different arms."""
    if group_by == "day":
        return (row["day"].isoformat(),)
    if group_by == "variant":
        return (row["experiment_id"] or 0, row["variant"] or "(none)")
    return (row["channel"],)


def _group_fields(group_by: str, key: tuple[Any, ...]) -> dict[str, Any]:
    if group_by == "variant":
        return {"experiment_id": key[0] or None, "variant": key[1]}
    return {group_by: key[0]}


def project_analytics(*, project: Project, since: date, until: date, group_by: str) -> dict[str, Any]:
    """The funnel of a project's pages between two days (inclusive), grouped by day, variant or
    channel: the daily rollups (cached until the worker bumps them) plus what is still waiting to
    be rolled up, computed the worker's way, so the figures are live. People only; known bots and
    the founder's previews are counted apart."""

    page_ids = list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))

    def flushed() -> list[dict[str, Any]]:
        return list(
            DailyRollup.objects.filter(page_id__in=page_ids, day__gte=since, day__lte=until)
            .values("day", "experiment_id", "variant", "channel", "traffic")
            .annotate(**{name: Sum(name) for name in SUMMED})
            .order_by()
        )

    rows = list(
        app_cache.get_or_set(
            app_cache.ANALYTICS,
            ("funnel", project.pk, since.isoformat(), until.isoformat()),
            flushed,
            namespaces=[keys.project_ns(project.pk), *(keys.analytics_ns(p) for p in page_ids)],
        )
    )  # a copy: the live rows are added to it
    # Live: rows not rolled up yet and the buffer not moved into rows yet. An entry stays in the
    # buffer until its row is committed, so the buffer is read first and the rows after it, in one
    # query with the rows of the buffered events: an event the worker moves into a row in between
    # is found once (as a row), never missed; the query count does not depend on the buffer.
    buffered = buffered_events(page_ids)
    in_db = Q(page_id__in=page_ids, rolled_up=False, day__gte=since, day__lte=until)
    if buffered:
        in_db |= Q(key__in=[e.id for e in buffered])
    # Bounded: with a backlog beyond EVENT_LIVE_MAX the live part is that many rows, a lower
    # bound (said in the answer), and the buffer is left out rather than risk counting twice.
    rows_in_db = list(Event.objects.filter(in_db).order_by("id")[: settings.EVENT_LIVE_MAX + 1])
    partial = len(rows_in_db) > settings.EVENT_LIVE_MAX
    if partial:
        rows_in_db, buffered = rows_in_db[: settings.EVENT_LIVE_MAX], []
    in_rows = {e.key for e in rows_in_db}
    waiting = [e for e in rows_in_db if not e.rolled_up and since <= e.day <= until]
    for event in buffered:
        fields = event.model_fields()
        if event.id not in in_rows and since <= fields["day"] <= until:
            waiting.append(Event(key=event.id, **fields))
    contribution = pending_contribution(waiting)
    for (_page, day, experiment_id, variant, channel, traffic), adds in contribution.rows.items():
        rows.append(
            {"day": day, "experiment_id": experiment_id, "variant": variant, "channel": channel, "traffic": traffic,
             **adds}
        )  # fmt: skip

    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    totals = dict.fromkeys(SUMMED, 0)
    excluded = {"bot_views": 0, "founder_views": 0}
    for row in rows:
        if row["traffic"] == Traffic.BOT:
            excluded["bot_views"] += row["views"] or 0
            continue
        if row["traffic"] == Traffic.FOUNDER:
            excluded["founder_views"] += row["views"] or 0
            continue
        group = groups.setdefault(_group_key(group_by, row), dict.fromkeys(SUMMED, 0))
        for name in SUMMED:
            value = row.get(name) or 0  # .get: rows cached before the people figures existed lack them
            group[name] += value
            totals[name] += value
    return {
        "project_id": project.pk,
        "project_name": project.name,
        "from": since,
        "to": until,
        "group_by": group_by,
        "rows": [{**_group_fields(group_by, key), **_rates(figures)} for key, figures in sorted(groups.items())],
        "totals": _rates(totals),
        "excluded": excluded,
        "live": {"events_not_rolled_up": len(waiting), "partial": partial},
    }


def project_daily(*, project: Project) -> list[dict[str, Any]]:
    """People's traffic and the spend per day since launch, oldest first (the report's table,
    charts and CSV export). Two queries."""
    rows: dict[date, dict[str, Any]] = {}
    for row in (
        DailyRollup.objects.filter(page__project=project, traffic=Traffic.HUMAN)
        .values("day")
        .annotate(views=Sum("views"), visitors=Sum("visitors"), signups=Sum("signups"), preorders=Sum("preorders"))
        .order_by("day")
    ):
        rows[row["day"]] = {**row, "spend": round_money(0, project.currency), "clicks": 0}
    for row in (
        CampaignSpend.objects.filter(campaign__project=project)
        .values("date")
        .annotate(spend=Sum("spend"), clicks=Sum("clicks"))
        .order_by("date")
    ):
        day = rows.setdefault(
            row["date"], {"day": row["date"], "views": 0, "visitors": 0, "signups": 0, "preorders": 0}
        )
        # A sum of amounts, rounded to the currency's minor unit: SQLite hands a decimal sum back as a float
        # read to 15 digits (88.6000000000000), which the CSV export and the report page would show as is.
        day["spend"], day["clicks"] = round_money(row["spend"] or 0, project.currency), row["clicks"] or 0
    return [rows[day] for day in sorted(rows)]
