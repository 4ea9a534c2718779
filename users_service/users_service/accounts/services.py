"""Writes of accounts: registration, login, token rotation, profile, password, staff changes, deactivation."""

import logging

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from common import login_lockout
from common.errors import ApplicationError, AuthenticationError, PermissionDeniedError
from common.messaging import outbox
from users_service.accounts.models import User
from users_service.accounts.tokens import RefreshToken, TokenPair, token_backend, token_pair_for_user

logger = logging.getLogger(__name__)


class InvalidCredentials(AuthenticationError):
    default_message = "No active account found with the given credentials."
    default_code = "authentication_failed"  # the 401 codes the OpenAPI schema declares


class RefreshTokenRejected(AuthenticationError):
    default_message = "Refresh token is invalid, expired, or already used."
    default_code = "authentication_failed"


def _password_errors(*, password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        return list(error.messages)
    return []


def user_register(*, username: str, email: str, password: str) -> User:
    """Create a customer account (no roles). Django's password validators apply; username and email are unique."""
    email = User.objects.normalize_email(email).strip()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["A user with that email already exists."]
    candidate = User(username=username, email=email)
    if password_errors := _password_errors(password=password, user=candidate):
        errors["password"] = password_errors
    if errors:
        raise ApplicationError(fields=errors)
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as error:  # a concurrent registration took the name first
        raise ApplicationError(fields={"username": ["A user with that username or email already exists."]}) from error
    return candidate


def token_obtain(*, username: str, password: str, client_address: str) -> TokenPair:
    """Check the credentials (with failed-login lockout) and issue a token pair. Inactive accounts cannot log in.

    ``client_address`` is the caller's IP address (the API passes ``REMOTE_ADDR``), counted for the lockout.
    """
    login_lockout.login_lock_check(username=username, client_address=client_address)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        login_lockout.login_failure_record(username=username, client_address=client_address)
        raise InvalidCredentials()
    login_lockout.login_success_record(username=username)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return token_pair_for_user(user=user)


def _verified_refresh_token(token: str) -> RefreshToken:
    try:
        return RefreshToken(token)  # type: ignore[arg-type]  # simplejwt annotates the encoded token as a Token
    except TokenError as error:
        raise RefreshTokenRejected() from error


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate: blacklist ``refresh`` and issue a new pair with the user's current claims.

    The blacklist row is the guard against a refresh token used twice at the
    same moment: ``BlacklistedToken.token`` is unique, so of two concurrent
    rotations the second insert waits for the first transaction and then
    fails; exactly one new pair is issued, the other caller gets a 401.
    """
    old = _verified_refresh_token(refresh)
    with transaction.atomic():
        user = User.objects.filter(pk=old["user_id"], is_active=True).first()
        if user is None:
            raise RefreshTokenRejected("The account is inactive or does not exist.")
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=old["jti"],
            defaults={
                "user": user,
                "token": refresh,
                "created_at": datetime_from_epoch(old["iat"]),
                "expires_at": datetime_from_epoch(old["exp"]),
            },
        )
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError as error:
            raise RefreshTokenRejected() from error
        return token_pair_for_user(user=user)


def token_logout(*, refresh: str) -> None:
    """Blacklist ``refresh``. Logging out twice with the same token is not an error.

    Signature, issuer, expiry and type are verified; the blacklist is not
    consulted, so a repeated logout is a no-op instead of a 401.
    """
    try:
        claims = token_backend.decode(refresh)
    except TokenBackendError as error:
        raise RefreshTokenRejected() from error
    if claims.get("token_type") != "refresh":
        raise RefreshTokenRejected("Token is not a refresh token.")
    with transaction.atomic():
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=claims["jti"],
            defaults={
                "user": User.objects.filter(pk=claims["user_id"]).first(),
                "token": refresh,
                "created_at": datetime_from_epoch(claims["iat"]),
                "expires_at": datetime_from_epoch(claims["exp"]),
            },
        )
        BlacklistedToken.objects.get_or_create(token=outstanding)


def refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every unexpired refresh token of ``user``; returns how many were revoked."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def user_profile_update(
    *, user: User, email: str | None = None, first_name: str | None = None, last_name: str | None = None
) -> User:
    """The account holder's own changes (username, roles and flags are not theirs to change)."""
    if email is not None:
        email = User.objects.normalize_email(email).strip()
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise ApplicationError(fields={"email": ["A user with that email already exists."]})
        user.email = email
    if first_name is not None:
        user.first_name = first_name
    if last_name is not None:
        user.last_name = last_name
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "first_name", "last_name"])
    except IntegrityError as error:
        raise ApplicationError(fields={"email": ["A user with that email already exists."]}) from error
    return user


def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    """Change the password and revoke every refresh token (other sessions must log in again)."""
    if not user.check_password(old_password):
        raise ApplicationError(fields={"old_password": ["The current password is not correct."]})
    if password_errors := _password_errors(password=new_password, user=user):
        raise ApplicationError(fields={"new_password": password_errors})
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        refresh_tokens_revoke(user=user)


def user_update_by_staff(
    *,
    user: User,
    actor: User,
    is_active: bool | None = None,
    roles: list[str] | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """A staff member's changes to an account: activation, roles, profile fields.

    Staff who are not superusers may not change a superuser's account, nor give
    themselves a role they do not hold (dropping one of their own is allowed).
    """
    if is_active is False and user.pk == actor.pk:
        raise ApplicationError(fields={"is_active": ["You cannot deactivate your own account."]})
    if not actor.is_superuser:
        if user.is_superuser:
            raise PermissionDeniedError("Only a superuser may change a superuser's account.")
        raising_own_roles = user.pk == actor.pk and roles is not None
        if raising_own_roles and not set(roles or ()) <= set(actor.groups.values_list("name", flat=True)):
            raise PermissionDeniedError("You cannot give yourself a role you do not hold.")
    with transaction.atomic():
        user_profile_update(user=user, email=email, first_name=first_name, last_name=last_name)
        if roles is not None:
            groups = list(Group.objects.filter(name__in=set(roles)))
            unknown = sorted(set(roles) - {group.name for group in groups})
            if unknown:
                raise ApplicationError(fields={"roles": [f"Unknown role: {name}." for name in unknown]})
            user.groups.set(groups)
        if is_active is not None and is_active != user.is_active:
            if is_active:
                user_reactivate(user=user)
            else:
                user_deactivate(user=user)
    return user


def user_reactivate(*, user: User) -> User:
    """Let the account log in again. Tokens issued before the deactivation stay refused everywhere."""
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


# Every service that verifies tokens on its own hears of a deactivation (common.auth.deactivations).
DEACTIVATION_MESSAGES = ("catalog.user_deactivated", "orders.user_deactivated")


def user_deactivate(*, user: User) -> User:
    """Lock the account out: no login, no refresh, and its live tokens refused on every service within seconds.

    Here the account row says so at once (``ActiveUserJWTAuthentication``);
    catalog and orders are told through the outbox, written in this very
    transaction, so the message cannot be lost nor sent for a rolled-back change.
    """
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        refresh_tokens_revoke(user=user)
        payload = {"user_id": user.id, "username": user.username, "deactivated_at": timezone.now().isoformat()}
        for name in DEACTIVATION_MESSAGES:
            outbox.enqueue(name, payload)
    return user
