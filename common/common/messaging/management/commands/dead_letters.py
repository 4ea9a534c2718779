"""``manage.py dead_letters [list|replay|discard] [message ids...|--all]``: the dead letters of this service."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from common.messaging.dead_letters import dead_letter_discard, dead_letter_replay
from common.messaging.models import DeadLetter
from common.messaging.publisher import PublishFailed


class Command(BaseCommand):
    help = "List, replay or discard this service's dead letters."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["list", "replay", "discard"])
        parser.add_argument("message_ids", nargs="*", help="Message ids (default with --all: every parked one).")
        parser.add_argument("--all", action="store_true", help="Every parked dead letter.")

    def handle(
        self,
        *args: object,
        action: str,
        message_ids: list[str],
        all: bool,  # noqa: A002 - the option's name
        **options: object,
    ) -> None:
        if action == "list":
            for dead_letter in DeadLetter.objects.order_by("created_at"):
                first_line = dead_letter.error.splitlines()[0] if dead_letter.error else ""
                self.stdout.write(
                    f"{dead_letter.message_id} {dead_letter.state} {dead_letter.name} "
                    f"attempts={dead_letter.attempts} {first_line}"
                )
            return
        if not message_ids and not all:
            raise CommandError("give message ids, or --all")
        selected = DeadLetter.objects.filter(state=DeadLetter.State.PARKED)
        if message_ids:
            selected = selected.filter(message_id__in=message_ids)
        for dead_letter in selected.order_by("created_at"):
            try:
                if action == "replay":
                    dead_letter_replay(dead_letter=dead_letter)
                else:
                    dead_letter_discard(dead_letter=dead_letter)
            except PublishFailed as error:
                raise CommandError(f"{dead_letter.message_id}: the broker refused the replay: {error}") from error
            self.stdout.write(f"{dead_letter.message_id} {dead_letter.state}")
