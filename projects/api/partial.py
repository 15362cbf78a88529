"""The one rule of the projects API's PATCH serializers: an empty body changes nothing and is
refused, so a client's typo in every field name does not pass as a successful edit."""

from typing import Any

from rest_framework import serializers


# Put first in a PATCH serializer's bases: refuses an empty body (400 under `non_field_errors`),
# then hands the fields to the serializer's own `validate`. No docstring on purpose: the OpenAPI
# schema takes a serializer's description from the first docstring in its bases.
class AtLeastOneFieldMixin:
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return super().validate(attrs)  # type: ignore[misc,no-any-return]
