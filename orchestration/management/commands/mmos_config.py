"""``mmos_config load FILE`` and ``mmos_config export [FILE]``."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestration.config.dump import config_dump
from orchestration.config.errors import ConfigError
from orchestration.config.schema import config_parse, config_with_server_urls
from orchestration.models import Specialist
from orchestration.services.config import config_export, config_load


class Command(BaseCommand):
    help = "Load an orchestration configuration from YAML, or export the current one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Load FILE (validated; all or nothing).")
        load.add_argument("file", type=Path)
        load.add_argument(
            "--server",
            action="append",
            default=[],
            metavar="NAME=URL",
            help="Point a server the file names at another URL (repeatable).",
        )
        export = sub.add_parser("export", help="Write the configuration to FILE or stdout.")
        export.add_argument("file", type=Path, nargs="?")

    def handle(self, *args, action: str, file: Path | None, **options) -> None:
        if action == "load":
            self._load(file, options.get("server") or [])
        else:
            self._export(file)

    def _load(self, file: Path, overrides: list[str]) -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        try:
            config = config_with_server_urls(config_parse(text), _pairs(overrides))
            result = config_load(config=config)
        except ConfigError as exc:
            raise CommandError(f"{file} is not a valid configuration:\n{exc}") from exc
        self.stdout.write(
            f"Loaded {file}: {result.servers} servers, {result.specialists} specialists, "
            f"{result.rules} routing rules ({result.removed} rows removed)."
        )

    def _export(self, file: Path | None) -> None:
        try:
            text = config_dump(config_export())
        except Specialist.DoesNotExist as exc:
            raise CommandError("nothing to export: no arbiter is configured") from exc
        if file is None:
            sys.stdout.write(text)
        else:
            file.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {file}.")


def _pairs(overrides: list[str]) -> dict[str, str]:
    pairs = {}
    for item in overrides:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise CommandError(f"--server takes NAME=URL, got {item!r}")
        pairs[name] = url
    return pairs
