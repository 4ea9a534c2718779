"""Outbox, inbox and dead letters; each service has its own tables, in its own schema."""

import uuid
from typing import TypedDict

from django.db import models

from common.messaging.contracts import JSONObject


class Envelope(TypedDict):
    """What travels to the consumer as the task's ``message`` argument (``OutboxMessage.envelope``)."""

    message_id: str
    name: str
    version: int
    payload: JSONObject
    source: str
    created_at: str


class OutboxMessage(models.Model):
    """A message written with the change that causes it; sent once the broker has accepted it.

    Its id is the message id the consumer records in its inbox.
    """

    class State(models.TextChoices):
        PENDING = "pending", "pending (not yet accepted by the broker)"
        SENT = "sent", "sent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, help_text="The contract name, <consumer>.<verb>.")
    queue = models.CharField(max_length=50)
    version = models.PositiveSmallIntegerField()
    payload = models.JSONField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a publish was tried.")
    last_error = models.TextField(blank=True, default="")
    # Where the message was written (common.telemetry): its trace context, so whoever sends it, when, sends it
    # in the trace that caused it, and the request id that travels with it. A default in the database, so adding
    # the columns rewrote no table.
    trace_context = models.CharField(max_length=55, blank=True, default="", db_default="")
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The relay reads only the unsent rows, oldest first.
            models.Index(
                fields=["created_at"], name="messaging_outbox_unsent", condition=models.Q(sent_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"

    @property
    def state(self) -> str:
        return self.State.SENT if self.sent_at else self.State.PENDING

    def envelope(self, *, source: str) -> Envelope:
        """What travels to the consumer as the task's ``message`` argument."""
        return {
            "message_id": str(self.id),
            "name": self.name,
            "version": self.version,
            "payload": self.payload,
            "source": source,
            "created_at": self.created_at.isoformat(),
        }


class InboxMessage(models.Model):
    """A message this service has applied; written in the same transaction as its effect."""

    message_id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=100)
    processed_at = models.DateTimeField()

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.message_id}"


class DeadLetter(models.Model):
    """A received message whose handler kept failing (or which broke its contract), parked for an operator."""

    class State(models.TextChoices):
        PARKED = "parked", "parked"
        REPLAYED = "replayed", "replayed"
        DISCARDED = "discarded", "discarded"

    message_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=100)
    queue = models.CharField(max_length=50)
    message = models.JSONField(help_text="The envelope as received, sent again as is on replay.")
    error = models.TextField()
    attempts = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PARKED)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # The failing delivery's trace context (its replay starts a new trace linked to it) and request id.
    trace_context = models.CharField(max_length=55, blank=True, default="", db_default="")
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "-created_at"], name="messaging_deadletter_state")]

    def __str__(self) -> str:
        return f"{self.name} {self.message_id} ({self.state})"
