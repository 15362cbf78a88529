"""Template helpers of the public pages."""

import re

from django import template
from django.urls import reverse

from projects.models.pages import DEFAULT_ACCENT

register = template.Library()

# What pages store (the model's check constraint): "#" and six lowercase hex digits.
_ACCENT = re.compile(r"#[0-9a-f]{6}")


@register.simple_tag
def theme_stylesheet(accent: str) -> str:
    """The address of the theme stylesheet of an accent colour, or "" for the default accent,
    whose theme landing.css holds already (no second request for most pages), and for a value
    that is no colour (an unsaved preview's typo falls back to the default look)."""
    if accent == DEFAULT_ACCENT or not _ACCENT.fullmatch(accent or ""):
        return ""
    return reverse("public:theme", kwargs={"accent": accent.removeprefix("#")})
