"""Template helpers of the page editor's image forms."""

from django import template

from projects.services.page_images import upload_max_bytes_text

register = template.Library()


@register.simple_tag
def upload_max_size() -> str:
    """The upload size cap as the founder reads it ("2 MB")."""
    return upload_max_bytes_text()
