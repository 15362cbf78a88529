"""The API's JSON parser: DRF's, with nesting too deep for Python's parser refused as bad input."""

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # `[[[[...]]]]` a few thousand levels deep exhausts the recursion limit of the json
            # module (DRF catches only ValueError): it was a 500.
            raise ParseError("JSON parse error - nested too deeply.") from None
