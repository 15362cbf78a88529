"""The founder's signup list: the filter form (a GET form: search, confirmed, pre-order, channel,
variant, whose signups) and the keyset page cursors its "Older" and "Newer" links carry."""

from datetime import UTC
from typing import Any

from django import forms
from django.http import QueryDict
from rest_framework.exceptions import ValidationError as ApiValidationError

from mvpvalidator.pagination import decode_cursor, encode_cursor
from projects.models import Channel, Traffic
from projects.selectors.signups import SignupCursor, SignupFilters

SEARCH_MAX_LENGTH = 100
# The largest id a database row can have (a signed 64-bit key): a cursor past it is not a row's.
MAX_ROW_ID = 2**63 - 1

YES_NO = {"yes": True, "no": False}
# "all": every signup; the default is people's (bots and the founder's own tests left out, as in
# every figure of the project).
TRAFFIC_ALL = "all"
TRAFFIC_CHOICES = [
    (Traffic.HUMAN.value, "People"),
    (Traffic.FOUNDER.value, "Your own test signups"),
    (Traffic.BOT.value, "Known bots"),
    (TRAFFIC_ALL, "Everyone"),
]
FILTER_FIELDS = ("q", "confirmed", "preorder", "channel", "variant", "traffic")
CURSOR_FIELDS = ("older", "newer")
BAD_CURSOR = "This page link is broken or out of date: the newest signups are shown instead."


def cursor_param(cursor: SignupCursor | None) -> str | None:
    """A cursor as the "Older" / "Newer" links carry it (None: no link)."""
    return None if cursor is None else encode_cursor(cursor.created_at, cursor.pk)


def _parse_cursor(value: str) -> SignupCursor:
    try:
        created_at, pk = decode_cursor(value)
    except ApiValidationError:
        raise forms.ValidationError(BAD_CURSOR, code="invalid") from None
    # A cursor this site made names an aware instant and a row id; anything else was edited.
    if created_at.tzinfo is None or not 0 < pk <= MAX_ROW_ID:
        raise forms.ValidationError(BAD_CURSOR, code="invalid")
    try:
        # In UTC, as the database compares it: an instant at the edge of the calendar with an
        # offset (0001-01-01T00:00+05:00) falls outside it here, not as a 500 in the query.
        created_at = created_at.astimezone(UTC)
    except (OverflowError, ValueError):
        raise forms.ValidationError(BAD_CURSOR, code="invalid") from None
    return SignupCursor(created_at=created_at, pk=pk)


class SignupFilterForm(forms.Form):
    """Bound to the query string. Invalid fields are dropped from the filters (their message
    shows beside them) and the others still apply."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        strip=True,
        help_text="Part of an email address or a name.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    confirmed = forms.ChoiceField(
        label="Confirmed", required=False, choices=[("", "Any"), ("yes", "Confirmed"), ("no", "Not confirmed")]
    )
    preorder = forms.ChoiceField(
        label="Pre-order", required=False, choices=[("", "Any"), ("yes", "Pre-ordered"), ("no", "No pre-order")]
    )
    channel = forms.ChoiceField(label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices])
    variant = forms.ChoiceField(label="Variant", required=False, choices=[("", "Any variant")])
    traffic = forms.ChoiceField(label="Whose signups", required=False, choices=TRAFFIC_CHOICES)
    older = forms.CharField(required=False, widget=forms.HiddenInput)
    newer = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict, *, variant_keys: list[str], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        variant = self.fields["variant"]
        assert isinstance(variant, forms.ChoiceField)
        variant.choices = [("", "Any variant"), *((key, key) for key in variant_keys)]

    def clean_older(self) -> SignupCursor | None:
        value = self.cleaned_data["older"]
        return _parse_cursor(value) if value else None

    def clean_newer(self) -> SignupCursor | None:
        value = self.cleaned_data["newer"]
        return _parse_cursor(value) if value else None

    def _valid(self, name: str) -> Any:
        """A field's cleaned value, or its empty value when it was invalid."""
        self.is_valid()
        return self.cleaned_data.get(name) or None

    def filters(self) -> SignupFilters:
        traffic = self._valid("traffic") or Traffic.HUMAN
        return SignupFilters(
            search=self._valid("q") or "",
            confirmed=YES_NO.get(self._valid("confirmed") or ""),
            preorder=YES_NO.get(self._valid("preorder") or ""),
            channel=self._valid("channel") or "",
            variant=self._valid("variant") or "",
            traffic="" if traffic == TRAFFIC_ALL else traffic,
        )

    def cursors(self) -> tuple[SignupCursor | None, SignupCursor | None]:
        """(older_than, newer_than): where the page starts (both None: the first page)."""
        return self._valid("older"), self._valid("newer")

    def filter_query(self) -> QueryDict:
        """The valid filters as a query string's values (no cursor): what the page links, the
        CSV link and the pagination keep."""
        self.is_valid()
        query = QueryDict(mutable=True)
        for name in FILTER_FIELDS:
            value = self.cleaned_data.get(name)
            if value:
                query[name] = value
        return query

    @property
    def is_filtered(self) -> bool:
        """Whether the list is narrowed past the default (people's signups, no condition)."""
        query = self.filter_query()
        return any(name != "traffic" for name in query) or query.get("traffic", Traffic.HUMAN) != Traffic.HUMAN
