"""Request body parsers the projects API adds to DRF's JSON ones."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

MAX_CSV_BYTES = 1_000_000


class TextCsvParser(BaseParser):
    """A `text/csv` body, as bytes (the spend importer decodes it and reports bad lines)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> bytes:
        data = stream.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise ParseError(f"The file is larger than {MAX_CSV_BYTES // 1000} kB.")
        return data
