"""Cache namespaces of the projects domain: the one place their key names are built.

Hierarchy: `user:<id>` (everything of one account) → `projects_of:<id>` (the owner's lists)
and `project:<id>` (one project's detail and what is derived from it) → `page:<slug>` (the
public page). A write bumps the namespaces it touches, after its transaction commits.
"""

import contextlib
from collections.abc import Mapping

from django.core.cache import cache
from django.db import transaction

from mvpvalidator import cache as app_cache
from security.cache import user_ns


def projects_of_ns(user_id: int) -> str:
    return f"projects_of:{user_id}"


def project_ns(project_id: int) -> str:
    return f"project:{project_id}"


def page_ns(slug: str) -> str:
    return f"page:{slug.lower()}"


def public_page_parts(slug: str) -> tuple[str, str]:
    """The public page's data (page and running experiment), under `page_ns(slug)`."""
    return ("public", slug.lower())


def public_html_parts(slug: str, variant: str) -> tuple[str, str, str]:
    """The public page rendered for one variant ("" for the page's own copy), under `page_ns(slug)`."""
    return ("public-html", slug.lower(), variant)


# An editor's preview of unsaved page content: long enough to look at, short enough to be scratch.
PAGE_PREVIEW_SECONDS = 600
# The preview slot of the page's own content; a variant's is `PAGE_PREVIEW_VARIANT + key`.
PAGE_PREVIEW_PAGE = "page"
PAGE_PREVIEW_VARIANT = "variant-"


def page_preview_key(page_id: int, slot: str) -> str:
    """The latest rendering of a page's unsaved content (`slot`: PAGE_PREVIEW_PAGE, or a variant's
    PAGE_PREVIEW_VARIANT + key) for its owner's preview frame. One slot, overwritten by each
    rendering: a page has one owner, so however fast they type, a page holds one preview and a
    variant one, never a key per keystroke. The frame's view checks the page's owner first."""
    return f"page-preview:{page_id}:{slot}"


def experiment_ns(experiment_id: int) -> str:
    """An experiment's results, as far as the experiment itself goes (bumped by its edits and moves)."""
    return f"experiment:{experiment_id}"


def experiment_data_ns(experiment_id: int) -> str:
    """An experiment's results, as far as its traffic goes: bumped by the worker when a rollup
    changed what they are computed from (`results_inputs_changed`), not on every rollup of its
    events (the founder's previews, a beacon of someone already counted change nothing)."""
    return f"experiment-data:{experiment_id}"


# How long the worker remembers the inputs of an experiment's results it last saw. Past it, the
# next rollup of the experiment's events bumps its results once more: a recomputation, no harm.
RESULTS_INPUTS_SECONDS = 86_400


def results_inputs_key(experiment_id: int) -> str:
    """The fingerprint of an experiment's results' inputs the worker last saw (a plain key)."""
    return f"results-inputs:{experiment_id}"


def results_inputs_changed(inputs: Mapping[int, str]) -> list[int]:
    """Bump `experiment_data_ns` of each experiment whose inputs' fingerprint (experiment id ->
    fingerprint) differs from the one last seen, then remember the new ones; returns those bumped.

    Bumped before remembered: a process stopped between the two leaves the old fingerprint, so
    the next rollup bumps again, where the other order could leave new figures unbumped; two
    workers racing bump twice at worst. Without the shared cache every one is bumped (and `bump`
    replays it once the cache answers)."""
    keys = {results_inputs_key(experiment_id): experiment_id for experiment_id in inputs}
    try:
        seen = app_cache.call(cache.get_many, list(keys))
    except app_cache.CacheUnavailable:
        seen = {}
    changed = [experiment_id for key, experiment_id in keys.items() if seen.get(key) != inputs[experiment_id]]
    if changed:
        app_cache.bump(*(experiment_data_ns(experiment_id) for experiment_id in changed))
        fresh = {results_inputs_key(experiment_id): inputs[experiment_id] for experiment_id in changed}
        with contextlib.suppress(app_cache.CacheUnavailable):
            app_cache.call(cache.set_many, fresh, RESULTS_INPUTS_SECONDS)
    return changed


def analytics_ns(page_id: int) -> str:
    """A page's analytics from the rollups (bumped by the worker as for experiments)."""
    return f"analytics:{page_id}"


def detail_namespaces(*, user_id: int, project_id: int) -> list[str]:
    return [user_ns(user_id), project_ns(project_id)]


def detail_json_parts(*, user_id: int, project_id: int) -> tuple[str, int, int]:
    """The API's project detail as its owner gets it, the JSON body itself, under
    `detail_namespaces`: any write to the project or to the account bumps it away."""
    return ("detail-json", project_id, user_id)


def detail_read_with_identity(*, project_id: int) -> list[str]:
    """What a request for the detail reads beside its owner's identity (`user_ns`, which the
    identity reads too): `app_cache.read_together` reads them all in one round trip."""
    return [app_cache.family_ns(app_cache.PROJECT), project_ns(project_id)]


def list_namespaces(*, user_id: int) -> list[str]:
    return [user_ns(user_id), projects_of_ns(user_id)]


def invalidate_on_commit(
    *, owner_id: int, project_id: int, listing: bool = False, slugs: tuple[str, ...] = (), soon: bool = False
) -> None:
    """Bump, once the surrounding transaction commits, what a write to this project changed:
    its detail always, the owner's lists when `listing`, and the public pages in `slugs`.
    `soon`: by the flusher within a tick (`app_cache.bump_soon`), for a visitor's write (a
    signup), whose request then makes no round trip for it."""
    names = [project_ns(project_id)]
    if listing:
        names.append(projects_of_ns(owner_id))
    names.extend(page_ns(slug) for slug in slugs if slug)
    send = app_cache.bump_soon if soon else app_cache.bump
    transaction.on_commit(lambda: send(*names))
