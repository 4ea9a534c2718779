"""``GET users/me/notifications/``: the caller's own notifications, paginated."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from users_service.accounts.authentication import AuthenticatedRequest
from users_service.notifications.models import Notification
from users_service.notifications.selectors import notification_list


class NotificationOutputSerializer(serializers.Serializer[Notification]):
    id = serializers.IntegerField()
    order_id = serializers.UUIDField()
    order_status = serializers.CharField()
    subject = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    emailed_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(GenericAPIView[Notification]):
    """The caller's notifications, newest first, paginated ``{count, next, previous, results}``."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationOutputSerializer
    filter_backends: list[type[BaseFilterBackend]] = []

    @extend_schema(operation_id="users_me_notifications_list", responses=NotificationOutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(notification_list(user_id=request.user.id))
        output = NotificationOutputSerializer(page, many=True)  # type: ignore[arg-type]  # the stubs have no many=True
        return self.get_paginated_response(output.data)
