"""Content negotiation for the API's CSV exports.

An export streams its CSV itself (no DRF renderer takes part), so DRF's default negotiation,
which knows only the JSON renderer, answered `Accept: text/csv` with 406. Here the question is
whether the client accepts CSV (`mvpvalidator.spreadsheet.accepts_csv`, the one rule every CSV
export applies); errors on the way (401, 404) are still rendered by the JSON renderer in the
one error shape.
"""

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from mvpvalidator.spreadsheet import CSV_MEDIA_TYPE, accepts_csv


class CsvExportNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        if not accepts_csv(request.META.get("HTTP_ACCEPT")):
            raise NotAcceptable(available_renderers=[CSV_MEDIA_TYPE])
        renderer = renderers[0]
        return renderer, renderer.media_type
