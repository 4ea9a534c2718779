"""``GET users/me/notifications/``: the caller's own notifications, paginated."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from common.pagination import PageNumberPagination
from users_service.notifications.selectors import notification_list


class NotificationListApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        order_id = serializers.UUIDField()
        order_status = serializers.CharField()
        subject = serializers.CharField()
        message = serializers.CharField()
        created_at = serializers.DateTimeField()
        emailed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(operation_id="users_me_notifications_list", responses=OutputSerializer(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(notification_list(user_id=request.user.id), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
