from django.urls import path

from catalog_service.catalog import apis

urlpatterns = [
    path("categories/", apis.CategoryListCreateApi.as_view(), name="category-list"),
    path("categories/<slug:slug>/", apis.CategoryDetailApi.as_view(), name="category-detail"),
    path("products/", apis.ProductListCreateApi.as_view(), name="product-list"),
    path("products/<int:product_id>/", apis.ProductDetailApi.as_view(), name="product-detail"),
]
