"""A landing page's HTML as its visitors get it: rendered once per page version and variant with
slots for what differs per visitor (the form token, the first-touch fields, the site's origin),
cached under the page's namespace, and kept in each process cut at those slots as bytes, so a
page view joins a few byte strings instead of rendering a template or replacing text."""

import re
from typing import Any, NamedTuple

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from mvpvalidator import cache as app_cache
from projects import cache as keys
from projects.forms.public import SignupForm
from projects.models import LandingPage
from projects.selectors.pages import PUBLIC_PAGE_MAX_AGE_SECONDS, LiveVariant, PublicPage, page_content, share_card
from projects.selectors.variants import variant_as_page

# Stand-ins for what differs per request in a cached landing page (filled in per visitor).
SLOT_TOKEN = "mvp-slot-token-4f1c9a"  # noqa: S105 - a placeholder, not a secret
SLOT_HIDDEN = "mvp-slot-hidden-4f1c9a"
# The site's own origin in the share card's absolute addresses (`views.public.public_origin`):
# filled in per request, since without PUBLIC_BASE_URL it is the address the request reached.
SLOT_ORIGIN = "mvp-slot-origin-4f1c9a"


def page_html(public: PublicPage, variant: LiveVariant | None) -> str:
    """The page as a visitor of `variant` sees it, with slots for the visitor's form token and
    first-touch fields: rendered once per page version and variant, then served from the cache
    under the page's namespace (so no template is rendered on a page view)."""
    page = public.page

    def render_page() -> str:
        content = page_content(page, variant)
        return render_to_string(
            "projects/landing.html",
            {
                "page": shown_page(page, variant, content),
                "content": content,
                "share": share_card(page, content, origin=SLOT_ORIGIN),
                "form": SignupForm(),
                "form_token": SLOT_TOKEN,
                "hidden_inputs": mark_safe(SLOT_HIDDEN),  # noqa: S308 - a constant, replaced by escaped inputs
            },
        )

    return app_cache.get_or_set(
        app_cache.PAGE,
        keys.public_html_parts(page.slug, variant.key if variant else ""),
        render_page,
        namespaces=[keys.page_ns(page.slug)],
        max_age=PUBLIC_PAGE_MAX_AGE_SECONDS,
    )


_SLOTS = re.compile(f"({SLOT_TOKEN}|{SLOT_HIDDEN}|{SLOT_ORIGIN})")


class PageCut(NamedTuple):
    """`page_html` cut at its slots, its text encoded once: `parts` holds the page's own text at
    even indexes (the odd ones are filled per visitor), `slots` the slot each odd index takes."""

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]


# This process's cut pages: (slug, variant key) -> (the `PublicPage` it was cut for, the cut).
# `public_page` hands out the same object for as long as that version of the page is current,
# so a cut made for that very object is that version's, and a page view costs no second cache
# lookup; any other object (a change of the page, or read back from the shared cache) is looked
# up and cut again. A few entries per page: cleared whole when it grows past this.
_cuts: dict[tuple[str, str], tuple[PublicPage, PageCut]] = {}
_MAX_CUTS = 4096


def page_cut(public: PublicPage, variant: LiveVariant | None) -> PageCut:
    key = (public.page.slug, variant.key if variant else "")
    kept = _cuts.get(key)
    if kept is not None and kept[0] is public:
        return kept[1]
    pieces = _SLOTS.split(page_html(public, variant))
    cut = PageCut(parts=tuple(piece.encode() for piece in pieces), slots=tuple(pieces[1::2]))
    if len(_cuts) >= _MAX_CUTS:
        _cuts.clear()
    _cuts[key] = (public, cut)
    return cut


def filled(cut: PageCut, values: dict[str, str]) -> bytes:
    """The page's bytes with each slot filled in (`values`: slot -> text)."""
    encoded = {slot: value.encode() for slot, value in values.items()}
    parts = list(cut.parts)
    parts[1::2] = [encoded[slot] for slot in cut.slots]
    return b"".join(parts)


def shown_page(page: LandingPage, variant: LiveVariant | None, content: dict[str, Any]) -> LandingPage:
    """The page as the variant's visitor sees it: the template reads the body and the benefits
    from the page, so an arm's copy of them is laid over an unsaved copy (as a variant's preview)."""
    return page if variant is None else variant_as_page(page=page, values=content)
