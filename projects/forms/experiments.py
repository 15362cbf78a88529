"""The form that builds an experiment from a page's variants (`services.experiments.experiment_create_from_page`).

The page itself is the control arm ("a", always in); each page variant the founder ticks is another arm, with
its weight. Coverage and the minimum lift worth detecting are typed as percentages and handed to the service as
shares. The service checks everything again (the API and the commands share it) and its refusals are shown
beside the fields they are about (`mvpvalidator.forms.add_service_errors`): its keys are these field names.
"""

from decimal import Decimal
from typing import Any, cast

from django import forms

from projects.models import LandingPage
from projects.services.experiments import CONTROL_KEY, WEIGHT_MAX

DEFAULT_WEIGHT = 50
DEFAULT_COVERAGE = 100
DEFAULT_MDE = Decimal("20")
MDE_MAX = Decimal("1000")


def weight_field_name(key: str) -> str:
    return f"weight_{key}"


class ExperimentForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="What you will call it in your list, e.g. “Shorter headline”.")
    hypothesis = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you expect and why, e.g. “Naming the pain in the headline gets more sign-ups”.",
    )
    arms = forms.MultipleChoiceField(
        label="Variants taking part",
        error_messages={"required": "Choose at least one variant to test against the page."},
        widget=forms.CheckboxSelectMultiple,
        help_text="The page itself (A) is always in, as the control the variants are compared with.",
    )
    coverage = forms.IntegerField(
        label="Coverage (%)",
        min_value=1,
        max_value=100,
        initial=DEFAULT_COVERAGE,
        help_text="The share of visitors in the experiment; the others see the page and are not counted.",
    )
    minimum_detectable_effect = forms.DecimalField(
        label="Smallest lift worth detecting (%)",
        min_value=Decimal("1"),
        max_value=MDE_MAX,
        max_digits=6,
        decimal_places=1,
        initial=DEFAULT_MDE,
        help_text="A relative lift: 20 means a 5% sign-up rate rising to 6%. Smaller lifts need many more visitors.",
    )
    start = forms.BooleanField(label="Start it now (the page must be published)", required=False)

    def __init__(self, *args: Any, page: LandingPage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = page
        self.variants = list(page.variants.all())
        arms = cast(forms.MultipleChoiceField, self.fields["arms"])
        arms.choices = [(v.key, f"{v.name} ({v.key.upper()})") for v in self.variants]
        arms.initial = [v.key for v in self.variants]
        for key, label in [
            (CONTROL_KEY, "The page (A)"),
            *((v.key, f"{v.name} ({v.key.upper()})") for v in self.variants),
        ]:
            self.fields[weight_field_name(key)] = forms.IntegerField(
                label=f"Weight of {label}",
                min_value=1,
                max_value=WEIGHT_MAX,
                initial=DEFAULT_WEIGHT,
            )

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[weight_field_name(key)] for key in (CONTROL_KEY, *(v.key for v in self.variants))]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arms = {CONTROL_KEY: data[weight_field_name(CONTROL_KEY)]}
        for key in data["arms"]:
            arms[key] = data[weight_field_name(key)]
        return {
            "name": data["name"],
            "hypothesis": data["hypothesis"],
            "arms": arms,
            "coverage": Decimal(data["coverage"]) / 100,
            "minimum_detectable_effect": data["minimum_detectable_effect"] / 100,
            "start": data["start"],
        }

    def planner_inputs(self) -> tuple[float, float, int]:
        """(lift, coverage, arms) for the planner: what the form holds where it is valid, else the
        defaults (the planner is shown beside a form being filled in)."""
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        mde = data.get("minimum_detectable_effect") or DEFAULT_MDE
        coverage = data.get("coverage") or DEFAULT_COVERAGE
        chosen = data.get("arms") if self.is_bound else None
        arms = 1 + (len(chosen) if chosen is not None else len(self.variants))
        return float(mde) / 100, coverage / 100, max(arms, 2)
