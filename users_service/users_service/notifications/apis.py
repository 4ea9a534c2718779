"""``GET users/me/notifications/``: the caller's own notifications, paginated."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from users_service.notifications.selectors import notification_list


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.UUIDField()
    order_status = serializers.CharField()
    subject = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    emailed_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(GenericAPIView):
    """The caller's notifications, newest first, paginated ``{count, next, previous, results}``."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationOutputSerializer
    filter_backends: list = []

    @extend_schema(operation_id="users_me_notifications_list", responses=NotificationOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(notification_list(user_id=request.user.id))
        return self.get_paginated_response(NotificationOutputSerializer(page, many=True).data)
