"""Reads of accounts."""

from django.db.models import Q, QuerySet

from users_service.accounts.models import User


def user_list(
    *, search: str = "", is_active: bool | None = None, is_staff: bool | None = None, role: str = ""
) -> QuerySet[User]:
    """Users for the staff list, newest first, with their roles prefetched (two queries whatever the page size)."""
    users = User.objects.prefetch_related("groups").order_by("-date_joined", "-id")
    if search:
        users = users.filter(Q(username__icontains=search) | Q(email__icontains=search))
    if is_active is not None:
        users = users.filter(is_active=is_active)
    if is_staff is not None:
        users = users.filter(is_staff=is_staff)
    if role:
        users = users.filter(groups__name=role)
    return users


def user_get(*, user_id: int) -> User | None:
    """One user with their roles, or None."""
    return User.objects.prefetch_related("groups").filter(pk=user_id).first()


def user_get_active(*, user_id: int) -> User | None:
    """The active user with this id, or None (used to authenticate users_service's own requests)."""
    return User.objects.filter(pk=user_id, is_active=True).first()
