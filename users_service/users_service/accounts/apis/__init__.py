"""users_service's HTTP API: one view per operation, its serializers beside it."""
