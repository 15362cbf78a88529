"""Deployment checks (`manage.py check --deploy`) for what the projects app needs configured."""

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_public_base_url(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    # The confirmation emails are sent by the worker, with no request to take the host from.
    if settings.PUBLIC_BASE_URL_SET:
        return []
    return [
        Warning(
            f"PUBLIC_BASE_URL is not set: the links in confirmation emails point at {settings.PUBLIC_BASE_URL}.",
            hint="Set PUBLIC_BASE_URL to the platform's public address, e.g. https://mvp.example.com.",
            id="mvp_projects.W001",
        )
    ]
