"""Record a deactivation (called by the message handler, inside its inbox transaction)."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models.functions import Greatest

from common.auth.deactivations import store
from common.auth.deactivations.models import DeactivatedUser


def deactivation_record(*, user_id: int, username: str, deactivated_at: datetime) -> DeactivatedUser:
    """Refuse the user's tokens issued up to ``deactivated_at`` (the latest one wins if messages cross)."""
    record, created = DeactivatedUser.objects.get_or_create(
        user_id=user_id, defaults={"username": username, "deactivated_at": deactivated_at}
    )
    if not created:
        DeactivatedUser.objects.filter(pk=user_id).update(
            username=username, deactivated_at=Greatest("deactivated_at", deactivated_at)
        )
        record.refresh_from_db()
    # The operator's mirrored admin account (common.admin_sso), if any: its sessions end with it.
    get_user_model().objects.filter(username=username, is_active=True).update(is_active=False)
    # Inside the transaction: if Redis is down this raises and the message is retried.
    store.deactivations_store_rebuild()
    return record
