"""Is a verified token revoked by a deactivation? (no database query: see ``store``)."""

from common.auth.deactivations import store


def token_revoked(*, user_id: int, issued_at: float) -> bool:
    """True when the user was deactivated at or after the token's ``iat``."""
    moment = store.deactivated_at(user_id=user_id)
    return moment is not None and issued_at <= moment
