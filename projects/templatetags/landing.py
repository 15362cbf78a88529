"""Template helpers of the public pages."""

from django import template
from django.urls import reverse

from projects.models.pages import DEFAULT_ACCENT

register = template.Library()


@register.simple_tag
def theme_stylesheet(accent: str) -> str:
    """The address of the theme stylesheet of an accent colour, or "" for the default accent,
    whose theme landing.css holds already (no second request for most pages)."""
    if not accent or accent == DEFAULT_ACCENT:
        return ""
    return reverse("public:theme", kwargs={"accent": accent.removeprefix("#")})
