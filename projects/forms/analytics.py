"""The analytics page's date range: the last 7 or 30 days, or a custom from/to (at most
ANALYTICS_MAX_DAYS, the API's limit too)."""

from datetime import date, timedelta

from django import forms
from django.http import QueryDict

MAX_DAYS = 366
LAST_7, LAST_30, CUSTOM = "7", "30", "custom"
DEFAULT_PERIOD = LAST_30


class AnalyticsRangeForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        choices=[(LAST_7, "Last 7 days"), (LAST_30, "Last 30 days"), (CUSTOM, "From … to …")],
        required=False,
        error_messages={"invalid_choice": "Choose a period from the list."},
    )
    # "from" is a Python keyword: the fields are `since` and `until`, sent as `from` and `to`
    # (the API's names) through their prefixes-free names below.
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: QueryDict | None = None, *, today: date) -> None:
        if data is not None and not data.get("period"):
            # The period shown is the one used: the last 30 days, or "From … to …" when dates came.
            data = data.copy()
            data["period"] = CUSTOM if data.get("from") or data.get("to") else DEFAULT_PERIOD
        super().__init__(data, initial={"period": DEFAULT_PERIOD})
        self.today = today

    def full_clean(self) -> None:
        super().full_clean()
        # The period is rendered by its widget: point it at its error as the date fields are.
        if self.is_bound and "period" in self.errors:
            self.fields["period"].widget.attrs.update({"aria-invalid": "true", "aria-describedby": "id_period_error"})

    def add_prefix(self, field_name: str) -> str:
        return {"since": "from", "until": "to"}.get(field_name, field_name)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        period = cleaned.get("period") or (CUSTOM if cleaned.get("since") or cleaned.get("until") else DEFAULT_PERIOD)
        cleaned["period"] = period
        if period != CUSTOM:
            return cleaned
        if "since" in self.errors or "until" in self.errors:
            return cleaned
        since, until = cleaned.get("since"), cleaned.get("until")
        if since is None:
            self.add_error("since", "Give the first day.")
        if until is None:
            until = cleaned["until"] = self.today
        if isinstance(since, date) and isinstance(until, date):
            if since > until:
                self.add_error("since", "The first day must be on or before the last day.")
            elif (until - since).days >= MAX_DAYS:
                self.add_error("since", f"At most {MAX_DAYS} days at a time.")
        return cleaned

    def range(self) -> tuple[date, date]:
        """(first day, last day) of a valid form; the last 30 days otherwise."""
        default = (self.today - timedelta(days=29), self.today)
        if not self.is_valid():
            return default
        period = self.cleaned_data["period"]
        if period == CUSTOM:
            return self.cleaned_data["since"], self.cleaned_data["until"]
        return self.today - timedelta(days=int(period) - 1), self.today
