"""The founder's campaigns: the list, create and edit, start / pause / complete, and the campaign
screen (the tagged link for its ads, its daily spend entered or uploaded, its costs against what the
price can carry, a chart over days and the spend table). The figures are `campaign_summary`'s, the
API's own; every campaign is read through the owner-scoped selector (another founder's is a 404)."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitoring import charts
from mvpvalidator.exceptions import ApplicationError
from mvpvalidator.forms import add_service_errors
from mvpvalidator.links import site_origin
from projects.analysis import spend_csv
from projects.analysis.tagged_links import TaggedLink, tagged_link
from projects.forms.campaigns import CampaignForm, LinkForm, SpendDayForm, SpendFileForm
from projects.models import Campaign, CampaignStatus, Project
from projects.selectors.campaigns import (
    CampaignDay,
    campaign_cost_checks,
    campaign_days,
    campaign_get,
    campaign_rows,
    campaign_summary,
    published_pages,
    spend_newest_first,
)
from projects.selectors.projects import project_get
from projects.selectors.reports import project_test_card
from projects.services.campaigns import (
    SpendFileError,
    campaign_create,
    campaign_move,
    campaign_update,
    spend_import,
    spend_import_csv,
    spend_today,
)
from security.models import User

FORM_TEMPLATE = "projects/workspace/campaigns/form.html"
DETAIL_TEMPLATE = "projects/workspace/campaigns/detail.html"
EXAMPLE_CSV = "date,spend,impressions,clicks\n2026-11-01,42.50,12000,310\n2026-11-02,38.00,10400,287"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # signed in: login_required


def owned_campaign(request: HttpRequest, pk: int, campaign_pk: int) -> Campaign:
    """The signed-in founder's campaign of project `pk`; anyone else's (or another project's) is a 404."""
    campaign = campaign_get(user=_user(request), pk=campaign_pk)
    if campaign.project_id != pk:
        raise Http404("No such campaign in this project.")
    return campaign


def _message(exc: ValidationError | ApplicationError) -> str:
    if isinstance(exc, ApplicationError):
        return exc.message
    return " ".join(exc.messages)


@never_cache
@login_required
@require_GET
def campaign_list_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(user=_user(request), pk=pk)
    context = {"project": project, "rows": campaign_rows(project=project)}
    return render(request, "projects/workspace/campaigns/list.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def campaign_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(user=_user(request), pk=pk)
    form = CampaignForm(request.POST or None, currency=project.currency)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(project=project, **form.campaign_data())
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{campaign.name}” is created. Next: put its tagged link in your ads.")
            return redirect("campaign-detail", pk=project.pk, campaign_pk=campaign.pk)
    status = 400 if form.errors else 200
    return render(request, FORM_TEMPLATE, {"project": project, "form": form, "campaign": None}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    campaign = owned_campaign(request, pk, campaign_pk)
    project = campaign.project
    form = CampaignForm(request.POST or None, initial=CampaignForm.initial_for(campaign), currency=project.currency)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_update(campaign=campaign, data=form.campaign_data())
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your changes are saved.")
            return redirect("campaign-detail", pk=pk, campaign_pk=campaign.pk)
    status = 400 if form.errors else 200
    return render(request, FORM_TEMPLATE, {"project": project, "form": form, "campaign": campaign}, status=status)


def _move(request: HttpRequest, pk: int, campaign_pk: int, *, to: str, done: str) -> HttpResponse:
    campaign = owned_campaign(request, pk, campaign_pk)
    try:
        campaign_move(campaign=campaign, to=to)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, done)
    return redirect("campaign-detail", pk=pk, campaign_pk=campaign.pk)


@never_cache
@login_required
@require_POST
def campaign_start(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    return _move(request, pk, campaign_pk, to=CampaignStatus.ACTIVE, done="The campaign is active.")


@never_cache
@login_required
@require_POST
def campaign_pause(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    return _move(request, pk, campaign_pk, to=CampaignStatus.PAUSED, done="The campaign is paused.")


@never_cache
@login_required
@require_POST
def campaign_complete(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    """Asks first (a completed campaign cannot be started again nor take spend), then completes on
    `confirm=yes`. A campaign that cannot be completed is not asked about: the move says why not."""
    if request.POST.get("confirm") != "yes":
        campaign = owned_campaign(request, pk, campaign_pk)
        if campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
            context = {"project": campaign.project, "campaign": campaign}
            return render(request, "projects/workspace/campaigns/confirm_complete.html", context)
    done = "The campaign is complete: its figures are kept, it takes no more spend."
    return _move(request, pk, campaign_pk, to=CampaignStatus.COMPLETED, done=done)


# --- The campaign screen -------------------------------------------------------------------------


def _test_card(project: Project) -> dict[str, Any] | None:
    """The project's test card, or None while the project has no price (nothing to judge costs by)."""
    try:
        return project_test_card(project=project)
    except ApplicationError:
        return None


def _chart(days: list[CampaignDay], currency: str, most: Any) -> str:
    labels = [d.day.strftime("%d %b") for d in days]
    series = [
        charts.Series("Spend that day", [float(d.spend) for d in days], "s0"),
        charts.Series(
            "Cost per signup so far",
            [None if d.cost_per_signup_so_far is None else float(d.cost_per_signup_so_far) for d in days],
            "s1",
        ),
    ]
    if most is not None:
        series.append(charts.Series("Most a signup may cost", [float(most)] * len(days), "s2"))
    return charts.line_chart(series, x_labels=labels, title=f"Daily spend and cost per signup ({currency})")


def _link(request: HttpRequest, campaign: Campaign, form: LinkForm) -> TaggedLink | None:
    page, content = form.chosen()
    if page is None:
        return None
    public_url = site_origin(request) + reverse("public:landing", kwargs={"slug": page.slug})
    return tagged_link(public_url, platform=campaign.platform, utm_campaign=campaign.utm_campaign, utm_content=content)


def _day_form(campaign: Campaign, **kwargs: Any) -> SpendDayForm:
    return SpendDayForm(
        currency=campaign.project.currency, starts_on=campaign.starts_on, ends_on=campaign.ends_on, **kwargs
    )


def _screen(
    request: HttpRequest,
    campaign: Campaign,
    *,
    day_form: SpendDayForm | None = None,
    file_form: SpendFileForm | None = None,
    file_errors: list[spend_csv.LineError] | None = None,
    status: int = 200,
) -> HttpResponse:
    project = campaign.project
    summary = campaign_summary(campaign=campaign)
    card = _test_card(project)
    checks = campaign_cost_checks(summary=summary, card=card)
    days = campaign_days(campaign=campaign)
    link_form = LinkForm(request.GET, pages=published_pages(project=project))
    today, zone = spend_today()
    context = {
        "project": project,
        "campaign": campaign,
        "summary": summary,
        "card": card,
        "checks": checks,
        "chart": _chart(days, summary["currency"], checks["signup"].most) if days else None,
        "spend_rows": list(spend_newest_first(campaign=campaign)),
        "link_form": link_form,
        "link": _link(request, campaign, link_form),
        "day_form": day_form or _day_form(campaign, initial={"date": min(today, campaign.ends_on or today)}),
        "file_form": file_form or SpendFileForm(),
        "file_errors": file_errors,
        "example_csv": EXAMPLE_CSV,
        "today": today,
        "zone": zone,
        "max_rows": spend_csv.MAX_ROWS,
        "max_kb": spend_csv.MAX_BYTES // 1000,
        "open": campaign.status != CampaignStatus.COMPLETED,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)


@never_cache
@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    return _screen(request, owned_campaign(request, pk, campaign_pk))


@never_cache
@login_required
@require_POST
def campaign_spend(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    """One day's spend: added, or the day replaced when it is there."""
    campaign = owned_campaign(request, pk, campaign_pk)
    form = _day_form(campaign, data=request.POST)
    if form.is_valid():
        try:
            result = spend_import(campaign=campaign, rows=[form.row()])
        except SpendFileError as exc:
            for line in (exc.extra or {}).get("lines", []):
                form.add_error("date" if line["field"] == "date" else None, line["message"])
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(form, exc)
        else:
            day = form.cleaned_data["date"]
            messages.success(request, f"Spend of {day:%d %b %Y} {'replaced' if result.updated else 'added'}.")
            return redirect(reverse("campaign-detail", args=[pk, campaign.pk]) + "#spend")
    return _screen(request, campaign, day_form=form, status=400)


@never_cache
@login_required
@require_POST
def campaign_spend_upload(request: HttpRequest, pk: int, campaign_pk: int) -> HttpResponse:
    """A spend file: every bad line named and nothing imported, or every day added or replaced."""
    campaign = owned_campaign(request, pk, campaign_pk)
    form = SpendFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _screen(request, campaign, file_form=form, status=400)
    try:
        result = spend_import_csv(campaign=campaign, data=form.content())
    except SpendFileError as exc:
        lines = [spend_csv.LineError(**line) for line in (exc.extra or {}).get("lines", [])]
        return _screen(request, campaign, file_form=form, file_errors=lines, status=400)
    except (ValidationError, ApplicationError) as exc:
        form.add_error("file", _message(exc))
        return _screen(request, campaign, file_form=form, status=400)
    messages.success(
        request,
        f"The file is imported: {result.created} day{'s' if result.created != 1 else ''} added, "
        f"{result.updated} replaced.",
    )
    return redirect(reverse("campaign-detail", args=[pk, campaign.pk]) + "#spend")
