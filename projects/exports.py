"""The founder's projects, landing pages and signups in the account's data export
(`accounts.exports`), read through the projects' own selectors, owner-scoped. Signups are
streamed from the database a chunk at a time: a founder may have hundreds of thousands."""

from collections.abc import Iterator
from typing import Any

from accounts import exports
from projects.selectors.pages import landing_page_qs_for_user
from projects.selectors.projects import project_list
from projects.selectors.signups import signup_export_rows
from security.models import User

PROJECT_COLUMNS = (
    "id", "name", "status", "idea_description", "target_audience", "price_point", "currency", "business_model",
    "delivery", "billing", "contact_name", "contact_email", "contact_address", "verdict", "created_at",
    "updated_at", "completed_at",
)  # fmt: skip
PAGE_COLUMNS = (
    "id", "project_id", "slug", "status", "headline", "subheadline", "value_proposition", "features",
    "pricing_tiers", "cta_text", "cta_kind", "preorder_price", "qualifying_question", "double_opt_in",
    "consent_text", "accent_color", "font_pairing", "published_at", "created_at", "updated_at",
)  # fmt: skip
SIGNUP_COLUMNS = (
    "id", "project_id", "landing_page_slug", "email", "name", "qualifying_answer", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "utm_term", "referrer", "channel", "variant", "consent", "consent_at",
    "confirmed_at", "unsubscribed_at", "created_at",
)  # fmt: skip


def project_rows(user: User) -> Iterator[dict[str, Any]]:
    for project in project_list(user=user).iterator():
        yield {column: getattr(project, column) for column in PROJECT_COLUMNS}


def page_rows(user: User) -> Iterator[dict[str, Any]]:
    for page in landing_page_qs_for_user(user=user).order_by("project_id", "id").iterator():
        yield {column: getattr(page, column) for column in PAGE_COLUMNS}


def signup_rows(user: User) -> Iterator[dict[str, Any]]:
    for project in project_list(user=user).only("pk").iterator():
        for signup in signup_export_rows(project=project):
            yield {column: getattr(signup, column) for column in SIGNUP_COLUMNS}


def register() -> None:
    exports.register("projects", project_rows, columns=PROJECT_COLUMNS)
    exports.register("pages", page_rows, columns=PAGE_COLUMNS)
    exports.register("signups", signup_rows, columns=SIGNUP_COLUMNS)
