"""``mmos_run [--config FILE] [--inline] [--timeout S] [--json] TASK``: start a run, wait, print.

Exit status: 0 when the run completed or waits for an answer (see ``mmos_answer``), 1 when it
failed, was cancelled or hit a limit, 2 when the timeout passed first.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestration.models import Conversation
from orchestration.selectors.transcripts import conversation_transcript, transcript_text
from orchestration.services.inline import WAITING, run_drive_inline, run_wait
from orchestration.services.runs import RunError, conversation_start


class Command(BaseCommand):
    help = "Start a run, wait until it ends or waits for a person, and print its transcript."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task")
        parser.add_argument("--config", type=Path, help="Load this configuration first.")
        parser.add_argument("--inline", action="store_true", help="Run steps in this process.")
        parser.add_argument("--timeout", type=float, default=600.0, help="Seconds to wait.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, task: str, config: Path | None, inline: bool, timeout: float, **opts):
        if config is not None:
            call_command("mmos_config", "load", str(config), stdout=self.stderr)
        try:
            conversation = conversation_start(task=task)
        except RunError as exc:
            raise CommandError(str(exc)) from exc
        conversation = drive(conversation, inline=inline, timeout=timeout)
        report(self, conversation, as_json=opts["json"])


def drive(conversation: Conversation, *, inline: bool, timeout: float) -> Conversation:
    if inline:
        return run_drive_inline(conversation=conversation, timeout_s=timeout)
    return run_wait(conversation=conversation, timeout_s=timeout)


def report(command: BaseCommand, conversation: Conversation, *, as_json: bool) -> None:
    transcript = conversation_transcript(conversation=conversation)
    if as_json:
        command.stdout.write(json.dumps(transcript, ensure_ascii=False))
    else:
        command.stdout.write(transcript_text(transcript))
    if conversation.status == Conversation.Status.COMPLETED or conversation.status in WAITING:
        return
    if not conversation.is_terminal:
        command.stderr.write(f"timed out; conversation {conversation.pk} is {conversation.status}")
        sys.exit(2)
    sys.exit(1)
