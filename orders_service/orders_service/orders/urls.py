from django.urls import path

from orders_service.orders import apis

app_name = "orders"

urlpatterns = [
    path("orders/", apis.OrderPlaceApi.as_view(), name="order-list"),
    path("orders/<uuid:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/cancel/", apis.OrderCancelApi.as_view(), name="order-cancel"),
]
