"""What the admins of every service share: read-only pages and search by exact id.

Mix them in before Django's class: ``class ReservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin)``.
"""

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

_M = TypeVar("_M", bound=Model)

# The largest value a bigint column holds, plus one: a longer number matches nothing (never a database error).
_BIGINT_LIMIT = 2**63


class ReadOnlyAdminMixin:
    """Rows written only by the code (a saga, the messaging, another service): operators look, never edit.

    No add, no change: the detail page shows every field read-only, and the
    admin's actions, if any, are the only way to act on a row. No delete
    either, unless the admin says ``can_delete = True``. Works for a
    ``ModelAdmin`` and for an inline alike (an inline's ``can_delete`` is
    Django's own attribute, with the same meaning; without the add
    permission an inline shows no blank rows).
    """

    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.can_delete and super().has_delete_permission(request, obj)  # type: ignore[misc]


class ExactIdSearchMixin:
    """The search box takes one id, matched exactly: a uuid (``uuid_search_field``) or a number (the other field).

    A partial uuid or any other text finds nothing (never a 500 from a value the column cannot hold).
    """

    uuid_search_field: str
    integer_search_field: str | None = None

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [name for name in (self.uuid_search_field, self.integer_search_field) if name]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[_M], search_term: str
    ) -> tuple[QuerySet[_M], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(**{self.uuid_search_field: uuid.UUID(term)}), False
        except ValueError:
            pass
        if self.integer_search_field and term.isdigit() and int(term) < _BIGINT_LIMIT:
            return queryset.filter(**{self.integer_search_field: int(term)}), False
        return queryset.none(), False
