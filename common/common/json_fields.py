"""Serializer fields of JSON bodies that take only what the OpenAPI schema says they take."""

from typing import Any

from rest_framework import serializers


class JsonBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only: DRF's ``BooleanField`` also reads ``0``, ``1``, ``"yes"``... (as in a form)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
