"""A JSON number where the API takes a string is a 400 (``invalid``), as the OpenAPI schema says.

DRF's ``CharField`` (and so ``EmailField``, ``SlugField``, ``RegexField``...) turns ``0`` into ``"0"``;
a schema-checking client, and schemathesis, rightly expect a request that sends a number for a
string to be refused. Installed once, when Django sets up (``StrictStringsConfig.ready``).
"""

from typing import Any

from rest_framework import fields

_ORIGINAL = fields.CharField.to_internal_value


def _to_internal_value(self: fields.CharField, data: Any) -> str:
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        self.fail("invalid")
    return _ORIGINAL(self, data)


def install() -> None:
    """Make every ``CharField`` refuse numbers; a second call changes nothing."""
    fields.CharField.to_internal_value = _to_internal_value  # type: ignore[method-assign,assignment]
