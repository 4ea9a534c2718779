"""Roles, from the token's ``roles`` claim, turned into rules."""

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # at run time, rest_framework.views loads DRF's settings, and so the authentication classes
    from rest_framework.views import APIView

CATALOG_MANAGER = "catalog_manager"
ORDER_OPERATOR = "order_operator"


def has_role(user: object, role: str) -> bool:
    """True for an authenticated caller holding ``role``; superusers hold every role."""
    if not getattr(user, "is_authenticated", False):
        return False
    checker = getattr(user, "has_role", None)
    return bool(checker and checker(role))


def anonymous_may_call(view_class: "type[APIView]", method: str) -> bool:
    """Whether the permissions of ``view_class`` let a caller without credentials make a ``method`` request.

    About who may call, not what succeeds: the view may still refuse the input. The OpenAPI schema says so
    (``common.openapi.AutoSchema``), and each service's route walk holds it to an explicit public list.
    """
    http_request = HttpRequest()
    http_request.method = method.upper()
    request = Request(http_request)
    request.user = AnonymousUser()
    view = view_class()
    return all(permission.has_permission(request, view) for permission in view.get_permissions())


class IsCatalogManagerOrReadOnly(permissions.BasePermission):
    """Anyone reads; only catalog managers (and superusers) write."""

    message = "Only catalog managers may change the catalog."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return has_role(request.user, CATALOG_MANAGER)


class IsOrderOperator(permissions.BasePermission):
    """Order operators (and superusers)."""

    message = "Only order operators may do this."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return has_role(request.user, ORDER_OPERATOR)
