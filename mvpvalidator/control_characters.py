"""C0/C1 control characters: one pattern for every place that strips them (no Django, so the
pure domain modules can use it too)."""

import re

# Tab and newline are text; the other C0 and C1 controls never belong in a stored or shown field.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control_characters(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)
