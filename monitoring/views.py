"""The staff performance dashboard (`/performance-monitor/`): the page, its panels as an HTML
fragment for the in-place refresh, one request's timeline, and the two actions staff take from
it (unblock an address, resolve an error group)."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from monitoring import context, panels, selectors, services
from security import interface as security


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors are sent to sign in; a signed-in non-staff user is refused (403, and
    a `permission_denied` security event), never shown a thing."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not (user.is_active and user.is_staff):
            security.record_permission_denied(request)
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _window(request: HttpRequest) -> str | None:
    window = request.GET.get("window", "1h")
    return window if window in selectors.WINDOWS else None


def _bad_window() -> HttpResponse:
    return HttpResponseBadRequest(
        f"Unknown window: use one of {', '.join(selectors.WINDOWS)}.", content_type="text/plain; charset=utf-8"
    )


def _windowed(view: Callable[[HttpRequest, str], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """The view gets the `?window=` asked for (one hour by default); an unknown one is a 400."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        window = _window(request)
        if window is None:
            return _bad_window()
        return view(request, window)

    return wrapper


@never_cache
@require_GET
@staff_only
@_windowed
def dashboard(request: HttpRequest, window: str) -> HttpResponse:
    return render(
        request,
        "dashboard/index.html",
        {"panels": panels.build(window), "window": window, "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS},
    )


@never_cache
@require_GET
@staff_only
@_windowed
def panels_fragment(request: HttpRequest, window: str) -> HttpResponse:
    """The panels alone, for the page's in-place refresh."""
    return render(request, "dashboard/_panels.html", {"panels": panels.build(window), "window": window})


@never_cache
@require_GET
@staff_only
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    if not context.valid_request_id(request_id):
        raise Http404("No such request id.")
    return render(request, "dashboard/request.html", {"timeline": panels.request_timeline(request_id)})


class UnblockForm(forms.Form):
    # An address or a network: blocks on IPv6 clients are stored as their /64, and staff may
    # block whole networks, so the button posts what the row holds (the service validates it).
    ip = forms.CharField(max_length=64)


class ResolveForm(forms.Form):
    group = forms.IntegerField(min_value=1)


def _back(request: HttpRequest, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('performance-monitor')}#{anchor}")


@require_POST
@staff_only
def unblock(request: HttpRequest) -> HttpResponse:
    form = UnblockForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not unblocked: {form.errors['ip'][0]}")
        return _back(request, "security")
    ip = form.cleaned_data["ip"]
    try:
        removed = security.ip_unblock(ip=ip, by=cast(Any, request.user))  # staff_only: a signed-in User
    except ValidationError as exc:
        messages.error(request, f"Not unblocked: {exc.message_dict['ip'][0]}")
        return _back(request, "security")
    if removed:
        messages.success(request, f"{ip} is unblocked.")
    else:
        messages.info(request, f"{ip} was not blocked.")
    return _back(request, "security")


@require_POST
@staff_only
def resolve_error(request: HttpRequest) -> HttpResponse:
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not resolved: no such error group.")
        return _back(request, "errors")
    resolved = services.error_groups_resolve(ids=[form.cleaned_data["group"]])
    if resolved:
        messages.success(request, "Error group marked resolved; it reopens if the error happens again.")
    else:
        messages.error(request, "Not resolved: no such error group.")
    return _back(request, "errors")
