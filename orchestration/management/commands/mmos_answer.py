"""``mmos_answer ID TEXT``: answer a pending escalation (a question from ``escalate_to_user``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestration.management.commands.mmos_run import drive, report
from orchestration.models import Escalation
from orchestration.services.runs import RunError, escalation_answer


class Command(BaseCommand):
    help = "Answer a pending escalation; the run continues with the answer as the tool result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("escalation_id", type=int)
        parser.add_argument("text")
        parser.add_argument("--inline", action="store_true", help="Go on with the run here.")
        parser.add_argument("--wait", action="store_true", help="Wait and print the transcript.")
        parser.add_argument("--timeout", type=float, default=600.0)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, escalation_id: int, text: str, **opts) -> None:
        escalation = Escalation.objects.filter(pk=escalation_id).first()
        if escalation is None:
            raise CommandError(f"There is no escalation {escalation_id}.")
        try:
            escalation_answer(escalation=escalation, text=text, user=None)
        except RunError as exc:
            raise CommandError(str(exc)) from exc
        if opts["inline"] or opts["wait"]:
            conversation = drive(
                escalation.conversation, inline=opts["inline"], timeout=opts["timeout"]
            )
            report(self, conversation, as_json=opts["json"])
        else:
            self.stdout.write(f"Answered escalation {escalation_id}.")
