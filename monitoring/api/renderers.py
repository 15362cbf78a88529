"""Renderers of the monitoring API's non-JSON answers."""

from typing import Any

from rest_framework.renderers import BaseRenderer


class PrometheusTextRenderer(BaseRenderer):
    """The Prometheus text exposition. Its media type is bare `text/plain` because DRF only
    accepts a renderer whose parameters the client repeats: bare, it serves `text/plain` with or
    without `version=` or `charset=`, `text/*` and `*/*`, and still refuses what it cannot
    produce (`application/xml`)."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data: str, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode(self.charset)
