from django.urls import path

from users_service.notifications import apis

app_name = "notifications"

urlpatterns = [
    path("users/me/notifications/", apis.NotificationListApi.as_view(), name="my-notifications"),
]
