"""prototype_select and prototype_update on their own: the stored state after each, one current
version per project, and nothing written after a refusal."""

import pytest
from django.core.exceptions import ValidationError

from mvpvalidator.exceptions import ConflictError
from projects.models import Project, Prototype
from projects.services.prototypes import prototype_generate, prototype_select, prototype_update

pytestmark = pytest.mark.django_db


def currents(project) -> list[int]:
    return list(Prototype.objects.filter(project=project, is_current=True).values_list("version", flat=True))


def test_select_moves_the_current_mark_and_keeps_one(project):
    for _ in range(3):
        prototype_generate(project=project)
    chosen = prototype_select(project=project, version=1)
    assert chosen.version == 1 and chosen.is_current
    assert currents(project) == [1]
    assert prototype_select(project=project, version=3).is_current
    assert currents(project) == [3]


def test_selecting_the_current_version_changes_nothing(project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    assert prototype_select(project=project, version=2).is_current
    assert currents(project) == [2]


def test_the_next_generation_after_a_choice_is_the_new_current(project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    prototype_select(project=project, version=1)
    assert prototype_generate(project=project).version == 3
    assert currents(project) == [3]


def test_select_of_a_missing_version_raises_and_keeps_the_current(project):
    prototype_generate(project=project)
    with pytest.raises(Prototype.DoesNotExist):
        prototype_select(project=project, version=5)
    assert currents(project) == [1]


def test_select_in_an_archived_project_is_a_conflict(project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    Project.objects.filter(pk=project.pk).update(status="archived")
    with pytest.raises(ConflictError):
        prototype_select(project=project, version=1)
    assert currents(project) == [2]


def test_update_keeps_generator_version_and_current_mark(project):
    prototype = prototype_generate(project=project)
    updated = prototype_update(prototype=prototype, data={"call_to_action": "Count me in"})
    stored = Prototype.objects.get(pk=prototype.pk)
    assert stored.call_to_action == updated.call_to_action == "Count me in"
    assert (stored.version, stored.is_current, stored.generator) == (1, True, "builtin")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"headline": "   "}, "headline"),
        ({"value_proposition": "<script></script>"}, "value_proposition"),
        ({"features": "not a list"}, "features"),
        ({"features": ["a", "b"]}, "features"),
        ({"pricing_tiers": []}, "pricing_tiers"),
        ({"pricing_tiers": [{"name": "Solo", "price": "-3", "period": "month"}]}, "pricing_tiers"),
        ({"pricing_tiers": [{"name": "Solo", "price": True, "period": "month"}]}, "pricing_tiers"),
        ({"pricing_tiers": [{"name": "Solo", "period": "month"}]}, "pricing_tiers"),
        ({"call_to_action": "x" * 61}, "call_to_action"),
    ],
)
def test_update_refuses_by_field_and_writes_nothing(project, data, field):
    prototype = prototype_generate(project=project)
    before = Prototype.objects.filter(pk=prototype.pk).values().get()
    with pytest.raises(ValidationError) as caught:
        prototype_update(prototype=prototype, data=data)
    assert list(caught.value.message_dict) == [field]
    assert Prototype.objects.filter(pk=prototype.pk).values().get() == before
