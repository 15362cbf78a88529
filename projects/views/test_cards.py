"""The test card screen: what the report judges against. Before the lock the founder edits the channel, the
expected cost per click and each bar (its meaning, its default and where the default comes from beside it);
after the lock the card is read-only, with when it locked and by which kind of visit."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mvpvalidator.exceptions import ApplicationError, ConflictError
from mvpvalidator.forms import add_service_errors
from projects.analysis.thresholds import CHANNELS
from projects.forms.reports import BARS, TestCardForm, bar_text
from projects.models.events import Channel
from projects.models.projects import Project
from projects.models.reports import TestCard
from projects.selectors.projects import project_get
from projects.selectors.reports import project_test_card, test_card_stored
from projects.services.reports import test_card_update
from security.models import User

TEMPLATE = "projects/workspace/reports/test_card.html"


def _context(project: Project) -> dict[str, Any]:
    """The card as the report uses it (None, with the reason, while the project has no price) and its stored row."""
    stored = test_card_stored(project=project)
    try:
        card: dict[str, Any] | None = project_test_card(project=project)
        problem = ""
    except ConflictError as exc:
        card, problem = None, exc.message
    terms = []
    if card is not None:
        for key, label, _meaning, glossary, _percent in BARS:
            source = card["sources"].get(key, "")
            terms.append(
                {
                    "key": key,
                    "label": label,
                    "glossary": glossary,
                    "value": bar_text(key, card[key]),
                    "set": source == "override",
                }
            )
    return {
        "project": project,
        "stored": stored,
        "card": card,
        "problem": problem,
        "terms": terms,
        "channel_label": CHANNELS.get(str((card or {}).get("channel")), ""),
        # No expected cost per click promised: the card uses what the campaigns pay (a fact of the run).
        "cpc_observed": bool(card and card.get("expected_cpc") is not None and not _promised_cpc(stored)),
        "locked_channel_label": dict(Channel.choices).get(stored.locked_by_channel, "") if stored else "",
    }


REFUSAL = (
    "Nothing was changed: the test card is locked. A real cold visitor has seen the page, and the verdict is judged "
    "against what the card promised before the results came in."
)


def _locked(request: HttpRequest, context: dict[str, Any], *, refused: bool) -> HttpResponse:
    """The card read-only; a post to a locked card is refused (409) with the reason, never half-applied."""
    if refused:
        context = {**context, "refusal": REFUSAL}
    return render(request, TEMPLATE, {**context, "locked": True}, status=409 if refused else 200)


def _promised_cpc(stored: TestCard | None) -> bool:
    if stored is None:
        return False
    if stored.locked_terms:
        return stored.locked_terms.get("expected_cpc") is not None
    return stored.expected_cpc is not None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def test_card(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the card; POST edits it until the lock (errors beside each field, nothing written on any)."""
    project = project_get(user=cast(User, request.user), pk=pk)  # signed in: login_required
    context = _context(project)
    stored, card = context["stored"], context["card"]
    if stored is not None and stored.locked_at is not None:
        return _locked(request, context, refused=request.method == "POST")
    form = TestCardForm(
        request.POST if request.method == "POST" else None,
        stored=stored,
        channel=(card or {}).get("channel") or "direct",
        business_model=project.business_model,
    )
    if request.method == "POST" and form.is_valid():
        try:
            test_card_update(project=project, data=form.card_data())
        except ConflictError:  # locked between the page and the post
            return _locked(request, _context(project), refused=True)
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Test card saved. The report now judges against these bars.")
            return redirect(reverse("test-card", args=[project.pk]))
    return render(request, TEMPLATE, {**context, "locked": False, "form": form}, status=400 if form.errors else 200)
