"""Outbox, inbox and dead letters in every service's admin, with their states.

Read-only: rows are written only by the messaging code; operators look and act through the actions.
An action (send now, replay, discard) is offered to, and run for, only an operator holding the model's
``change`` permission (``messaging.change_deadletter``, ``messaging.change_outboxmessage``), which the
service's ``ADMIN_ROLE_PERMISSIONS`` grant to the role that runs its messages; viewing needs ``view``.
"""

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest

from common.admin_mixins import ReadOnlyAdminMixin
from common.messaging.dead_letters import dead_letter_discard, dead_letter_replay
from common.messaging.models import DeadLetter, InboxMessage, OutboxMessage
from common.messaging.outbox import outbox_send_now
from common.messaging.publisher import PublishFailed

# Django's admin classes are generic only in django-stubs (django_stubs_ext is not installed at run time).
if TYPE_CHECKING:
    _OutboxMessageAdminBase = admin.ModelAdmin[OutboxMessage]
    _InboxMessageAdminBase = admin.ModelAdmin[InboxMessage]
    _DeadLetterAdminBase = admin.ModelAdmin[DeadLetter]
else:
    _OutboxMessageAdminBase = _InboxMessageAdminBase = _DeadLetterAdminBase = admin.ModelAdmin


class OperateActionsMixin:
    """``@admin.action(permissions=["operate"])``: the model's ``change`` permission, although the rows are read-only.

    ``ReadOnlyAdminMixin`` refuses ``change`` to everyone (no edit form), so the actions ask for the
    permission itself rather than for ``has_change_permission``.
    """

    def has_operate_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta  # type: ignore[attr-defined]  # the ModelAdmin's model
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


class OutboxStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: "admin.ModelAdmin[OutboxMessage]") -> list[tuple[str, str]]:
        return OutboxMessage.State.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
        if self.value() == OutboxMessage.State.PENDING:
            return queryset.filter(sent_at__isnull=True)
        if self.value() == OutboxMessage.State.SENT:
            return queryset.filter(sent_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(OperateActionsMixin, ReadOnlyAdminMixin, _OutboxMessageAdminBase):
    list_display = ["id", "name", "state", "attempts", "created_at", "sent_at", "short_error"]
    list_filter = [OutboxStateFilter, "name"]
    search_fields = ["=id", "name"]
    date_hierarchy = "created_at"
    actions = ["send_now"]
    show_full_result_count = False

    @admin.display(description="state")
    def state(self, message: OutboxMessage) -> str:
        return message.state

    @admin.display(description="last error")
    def short_error(self, message: OutboxMessage) -> str:
        return message.last_error[:120]

    @admin.action(description="Send the selected unsent messages now", permissions=["operate"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        sent, error = outbox_send_now(messages=queryset.filter(sent_at__isnull=True).order_by("created_at"))
        self.message_user(request, f"{sent} message(s) sent.", messages.SUCCESS)
        if error:
            self.message_user(request, f"The broker refused a message: {error}", messages.ERROR)


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdminMixin, _InboxMessageAdminBase):
    list_display = ["message_id", "name", "processed_at"]
    list_filter = ["name"]
    search_fields = ["=message_id"]
    date_hierarchy = "processed_at"
    show_full_result_count = False


@admin.register(DeadLetter)
class DeadLetterAdmin(OperateActionsMixin, ReadOnlyAdminMixin, _DeadLetterAdminBase):
    """The detail page is viewable; the actions are the only way to change a dead letter."""

    list_display = ["message_id", "name", "state", "attempts", "created_at", "updated_at", "short_error"]
    list_filter = ["state", "name"]
    search_fields = ["=message_id", "name"]
    readonly_fields = [
        "message_id",
        "name",
        "queue",
        "state",
        "attempts",
        "created_at",
        "updated_at",
        "message",
        "error",
    ]
    actions = ["replay", "discard"]

    @admin.display(description="error")
    def short_error(self, dead_letter: DeadLetter) -> str:
        return dead_letter.error.splitlines()[0][:120] if dead_letter.error else ""

    @admin.action(description="Replay the selected parked messages", permissions=["operate"])
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        replayed = 0
        for dead_letter in queryset.filter(state=DeadLetter.State.PARKED).order_by("created_at"):
            try:
                dead_letter_replay(dead_letter=dead_letter)
            except PublishFailed as error:
                self.message_user(request, f"The broker refused {dead_letter.message_id}: {error}", messages.ERROR)
                break
            replayed += 1
        self.message_user(request, f"{replayed} message(s) replayed.", messages.SUCCESS)

    @admin.action(description="Discard the selected parked messages", permissions=["operate"])
    def discard(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        discarded = 0
        for dead_letter in queryset.filter(state=DeadLetter.State.PARKED):
            dead_letter_discard(dead_letter=dead_letter)
            discarded += 1
        self.message_user(request, f"{discarded} message(s) discarded.", messages.SUCCESS)
