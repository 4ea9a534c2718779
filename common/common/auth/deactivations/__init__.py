"""Deactivated accounts, as catalog and orders learn of them: tokens issued before the deactivation are refused.

users_service sends ``<consumer>.user_deactivated`` (through its outbox) when
an operator deactivates an account. The handler (``tasks.py``, registered
under this service's own queue name) records ``user_id -> deactivated_at`` in
this service's database, in the same transaction as the inbox row, and
deactivates the operator's mirrored admin user, if any.

``JWTAuthentication.check_user`` then refuses every token of that user whose
``iat`` is not after ``deactivated_at``. The check reads a per-process
snapshot of the table, reloaded at most every ``JWT_DEACTIVATIONS_REFRESH_SECONDS``
(default 1 s): no database query per request, and a deactivation takes effect
on every web process within about a second of the message's arrival.
A reactivated user logs in again and gets tokens issued after
``deactivated_at``, which pass; no "reactivated" message is needed.

Install with ``"common.auth.deactivations"`` in ``INSTALLED_APPS``
(catalog and orders; users_service checks ``is_active`` itself).
"""
