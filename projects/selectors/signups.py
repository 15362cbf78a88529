"""Reads of a project's signups: the list (filtered, searched, in keyset pages), the CSV
export's stream, and the counts of signup forms held for a confirm button.

A signup row does not say whether its visitor pre-ordered: the "Buy" click of a pre-order page is
an event (`EventKind.PREORDER`), and the visitor leaves an email on the next page. A signup is a
pre-order when its visitor (`visitor_hash`) clicked "Buy" on one of the project's pages, read
from the events (`preorder_visitors`): raw events are kept for EVENT_RETENTION_DAYS, so an older
signup's click is no longer seen.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from projects.models import Event, EventKind, HeldSignup, HoldReason, LandingPage, Project, Signup, Variant
from projects.signup_tokens import HOLD_MAX_AGE_SECONDS

# A keyset page of the founder's list, and the most rows a filter's total is counted to: past
# it the list says "more than", so a count never reads a whole large project.
SIGNUP_PAGE_SIZE = 25
SIGNUP_COUNT_CAP = 1000

# The one definition of a confirmed signup, as `Signup.is_confirmed` says it: the address was
# confirmed and has not unsubscribed since.
CONFIRMED = Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


@dataclass(frozen=True)
class SignupFilters:
    """What the founder narrows the list to. Empty or None: no condition. `traffic` "" is every
    signup (the API's list); the workspace asks for people's (`Traffic.HUMAN`) by default."""

    search: str = ""
    confirmed: bool | None = None
    preorder: bool | None = None
    channel: str = ""
    variant: str = ""
    traffic: str = ""


def _page_ids(project: Project) -> list[int]:
    return list(LandingPage.objects.filter(project=project).values_list("pk", flat=True))


def preorder_visitors(*, page_ids: list[int]) -> QuerySet[Event, Any]:
    """The visitors (`visitor_hash`) who clicked "Buy" on one of these pages (a project's), as a
    subquery over the events' (page, visitor) index."""
    return Event.objects.filter(page_id__in=page_ids, kind=EventKind.PREORDER).values("visitor_hash")


def _mark_preorders(page_ids: list[int], rows: list[Signup]) -> list[Signup]:
    """Set `preordered` on each of `rows`: one probe of the events' (page, visitor) index for
    them all (a per-row subquery in the list's SELECT had the planner hash every pre-order of
    every project first)."""
    hashes = sorted({row.visitor_hash for row in rows if row.visitor_hash})
    bought = set()
    if hashes:
        bought = set(
            preorder_visitors(page_ids=page_ids).filter(visitor_hash__in=hashes).values_list("visitor_hash", flat=True)
        )
    for row in rows:
        row.preordered = row.visitor_hash in bought  # type: ignore[attr-defined]
    return rows


def _filtered(
    *, project: Project, filters: SignupFilters | None, page_ids: list[int] | None = None
) -> QuerySet[Signup]:
    """The project's signups that pass `filters`, unordered: each condition filters rows read
    from the project's (project, created_at, id) index. `page_ids`: the project's pages, when
    the caller has read them (the pre-order filter needs them)."""
    qs = Signup.objects.filter(project=project)
    if filters is None:
        return qs
    if filters.search:
        # Addresses are stored lower-case (a check constraint): a plain LIKE on the lowered term
        # finds them without lowering every row.
        qs = qs.filter(Q(email__contains=filters.search.lower()) | Q(name__icontains=filters.search))
    if filters.confirmed is not None:
        qs = qs.filter(CONFIRMED) if filters.confirmed else qs.exclude(CONFIRMED)
    if filters.preorder is not None:
        pages = _page_ids(project) if page_ids is None else page_ids
        bought = Q(visitor_hash__in=preorder_visitors(page_ids=pages))
        qs = qs.filter(bought) if filters.preorder else qs.exclude(bought)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.variant:
        qs = qs.filter(variant=filters.variant)
    if filters.traffic:
        qs = qs.filter(traffic=filters.traffic)
    return qs


def signup_list(
    *, project: Project, filters: SignupFilters | None = None, page_ids: list[int] | None = None
) -> QuerySet[Signup]:
    """Newest first, each with `landing_page_slug`: the one field of its page a list shows (a
    joined page would bring its whole content, copy and styles, once per row)."""
    return (
        _filtered(project=project, filters=filters, page_ids=page_ids)
        .annotate(landing_page_slug=F("landing_page__slug"))
        .order_by("-created_at", "-id")
    )


CSV_CHUNK = 2000


def signup_export_rows(
    *, project: Project, filters: SignupFilters | None = None, chunk_size: int = CSV_CHUNK
) -> Iterator[Signup]:
    """All signups (that pass `filters`) for a CSV export, streamed from the database in chunks."""
    return signup_list(project=project, filters=filters).iterator(chunk_size=chunk_size)


# The signups CSV: the API's export and the workspace's download write the same columns; the
# workspace's adds `preordered` (read from the pre-order events, which are kept for
# EVENT_RETENTION_DAYS: a mark the API does not promise).
SIGNUP_CSV_COLUMNS = (
    "email",
    "name",
    "landing_page",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent",
    "qualifying_answer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "referrer",
    "click_platform",
    "click_id",
    "channel",
    "variant",
    "traffic",
)
PREORDER_COLUMN = "preordered"


def signup_csv_rows(
    *, project: Project, filters: SignupFilters | None = None, preorders: bool = True
) -> Iterator[tuple[object, ...]]:
    """The CSV's rows as values, header first, streamed (the caller makes each cell safe and
    writes it); `preorders`: with the `preordered` column last."""
    yield (*SIGNUP_CSV_COLUMNS, PREORDER_COLUMN) if preorders else SIGNUP_CSV_COLUMNS
    page_ids = _page_ids(project)
    rows = signup_list(project=project, filters=filters, page_ids=page_ids).iterator(chunk_size=CSV_CHUNK)
    for chunk in _chunks(rows, CSV_CHUNK):
        for s in _mark_preorders(page_ids, chunk) if preorders else chunk:
            row = (
                s.email,
                s.name,
                s.landing_page_slug,  # type: ignore[attr-defined]  # annotated by signup_list
                s.created_at,
                s.confirmed_at,
                s.unsubscribed_at,
                s.consent,
                s.qualifying_answer,
                s.utm_source,
                s.utm_medium,
                s.utm_campaign,
                s.utm_content,
                s.utm_term,
                s.referrer,
                s.click_platform,
                s.click_id,
                s.channel,
                s.variant,
                s.traffic,
            )
            yield (*row, s.preordered) if preorders else row  # type: ignore[attr-defined]  # _mark_preorders


def _chunks(rows: Iterable[Signup], size: int) -> Iterator[list[Signup]]:
    chunk: list[Signup] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class SignupCursor:
    """A position in the newest-first list: the (created_at, id) of a row."""

    created_at: datetime
    pk: int


@dataclass(frozen=True)
class SignupPage:
    """One keyset page of the list: its rows, the cursors of the pages either side (None: there
    is none), and how many signups pass the filters, counted up to `SIGNUP_COUNT_CAP` (`capped`:
    there are more)."""

    rows: list[Signup]
    older: SignupCursor | None
    newer: SignupCursor | None
    total: int
    capped: bool
    # Whether one of the project's pages asks the qualifying question (the list shows the answers).
    asks_question: bool


def _cursor_of(signup: Signup) -> SignupCursor:
    return SignupCursor(created_at=signup.created_at, pk=signup.pk)


def signup_page(
    *,
    project: Project,
    filters: SignupFilters | None = None,
    older_than: SignupCursor | None = None,
    newer_than: SignupCursor | None = None,
    size: int = SIGNUP_PAGE_SIZE,
) -> SignupPage:
    """A page of the list, newest first: the first page, the one after `older_than` (the
    "Older" link) or the one before `newer_than` ("Newer"). Each row carries `landing_page_slug`
    and `preordered`. Four queries: the project's pages, the rows (one index range from the
    cursor, however deep), their pre-orders and the capped total."""
    pages = list(LandingPage.objects.filter(project=project).values_list("pk", "qualifying_question"))
    page_ids = [pk for pk, _ in pages]
    base = signup_list(project=project, filters=filters, page_ids=page_ids)
    rows: list[Signup] = []
    older = newer = None
    if newer_than is not None:
        c = newer_than
        # `created_at >= cursor` is implied by the OR, but the planner can only start an index
        # range at a plain bound (see mvpvalidator.pagination.keyset_page).
        ascending = (
            base.filter(created_at__gte=c.created_at)
            .filter(Q(created_at__gt=c.created_at) | Q(created_at=c.created_at, id__gt=c.pk))
            .order_by("created_at", "id")
        )
        rows = list(ascending[: size + 1])
        if len(rows) > size:
            rows = rows[:size][::-1]
            older, newer = _cursor_of(rows[-1]), _cursor_of(rows[0])
        else:
            # Fewer than a page is newer (signups arrived meanwhile, or the list is short): the
            # first page is shown instead, full.
            newer_than = None
    if newer_than is None:
        page_qs = base
        if older_than is not None:
            c = older_than
            page_qs = base.filter(created_at__lte=c.created_at).filter(
                Q(created_at__lt=c.created_at) | Q(created_at=c.created_at, id__lt=c.pk)
            )
        rows = list(page_qs[: size + 1])
        older = _cursor_of(rows[size - 1]) if len(rows) > size else None
        rows = rows[:size]
        if older_than is not None:
            # Past the oldest row (a cursor kept while rows were deleted): back from the cursor.
            newer = _cursor_of(rows[0]) if rows else older_than
    newest = _filtered(project=project, filters=filters, page_ids=page_ids).order_by("-created_at", "-id")
    # In the list's order: the count reads the newest matching rows through the same index range
    # as the first page, and stops past the cap.
    counted = newest.values("pk")[: SIGNUP_COUNT_CAP + 1].count()
    return SignupPage(
        rows=_mark_preorders(page_ids, rows),
        older=older,
        newer=newer,
        total=min(counted, SIGNUP_COUNT_CAP),
        capped=counted > SIGNUP_COUNT_CAP,
        asks_question=any(question for _, question in pages),
    )


def signup_variant_keys(*, project: Project) -> list[str]:
    """The variants the project's experiments have shown visitors (what a signup's `variant`
    holds), for the list's filter."""
    keys = Variant.objects.filter(experiment__page__project=project).values_list("key", flat=True)
    return sorted(set(keys))


def held_signup_counts(*, project: Project, now: datetime | None = None) -> dict[str, Any]:
    """The project's signup forms held for a confirm button (`HeldSignup`): how many, how many
    their visitors confirmed (stored as signups then), how many are still open, and how many were
    dropped (never confirmed, and the confirm button has expired), in all, by reason and by page
    (the pages that held any). One query."""
    now = now or timezone.now()
    expired = now - timedelta(seconds=HOLD_MAX_AGE_SECONDS)
    rows = list(
        HeldSignup.objects.filter(project=project)
        .values("reason", "landing_page__slug")
        .annotate(
            held=Count("id"),
            confirmed=Count("id", filter=Q(passed_at__isnull=False)),
            dropped=Count("id", filter=Q(passed_at__isnull=True, created_at__lt=expired)),
        )
        .order_by()
    )
    figures = ("held", "confirmed", "dropped")

    def summed(group: str, value: str) -> dict[str, int]:
        return {key: sum(int(row[key]) for row in rows if row[group] == value) for key in figures}

    reasons = [
        {"reason": reason.value, "label": reason.label, **summed("reason", reason.value)} for reason in HoldReason
    ]
    slugs = sorted({row["landing_page__slug"] for row in rows})
    pages = [{"slug": slug, **summed("landing_page__slug", slug)} for slug in slugs]
    totals = {key: sum(int(row[key]) for row in rows) for key in figures}
    return {
        **totals,
        "awaiting": totals["held"] - totals["confirmed"] - totals["dropped"],
        "by_reason": reasons,
        "by_page": pages,
    }
