"""``manage.py mmos_ensure_admin``: make sure an admin account exists and say how to log in.

Username and password come from ``MMOS_ADMIN_USER`` (default ``admin``) and
``MMOS_ADMIN_PASSWORD``. Without a password a new account gets a generated one, printed here
once and stored nowhere but as a hash.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orchestration.services.accounts import DEFAULT_ADMIN_USERNAME, admin_account_ensure


class Command(BaseCommand):
    help = "Make sure the admin account exists (MMOS_ADMIN_USER / MMOS_ADMIN_PASSWORD)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--username",
            default=os.environ.get("MMOS_ADMIN_USER") or DEFAULT_ADMIN_USERNAME,
            help="defaults to $MMOS_ADMIN_USER, else 'admin'",
        )

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        try:
            result = admin_account_ensure(
                username=username, password=os.environ.get("MMOS_ADMIN_PASSWORD") or None
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        name = result.user.get_username()
        if result.generated_password:
            self.stdout.write(
                f"Created admin account {name!r} with password: {result.generated_password}\n"
                "This password is shown only once. Change it with "
                f"`python manage.py changepassword {name}`."
            )
        elif result.created:
            self.stdout.write(
                f"Created admin account {name!r} (password from MMOS_ADMIN_PASSWORD)."
            )
        elif result.password_changed:
            self.stdout.write(f"Admin account {name!r}: password set from MMOS_ADMIN_PASSWORD.")
        else:
            self.stdout.write(
                f"Log in as {name!r} with the password shown when the account was created "
                f"(or set MMOS_ADMIN_PASSWORD; reset: `python manage.py changepassword {name}`)."
            )
