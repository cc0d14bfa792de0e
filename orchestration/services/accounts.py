"""Accounts: making sure the first admin exists so a fresh install can be logged into."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

GROUP_OPERATORS = "operators"
GROUP_ADMINS = "admins"
DEFAULT_ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class AdminEnsureResult:
    """What ``admin_account_ensure`` did.

    ``generated_password`` is set only when this call created the account with a password it
    made up; it exists nowhere else (the database keeps only its hash), so the caller must show
    it now or it is lost.
    """

    user: AbstractBaseUser
    created: bool
    password_changed: bool
    generated_password: str | None


@transaction.atomic
def admin_account_ensure(*, username: str, password: str | None = None) -> AdminEnsureResult:
    """Make sure ``username`` is an active superuser in the ``admins`` group.

    A missing account is created, with ``password`` or a generated one. An existing account
    keeps its password unless ``password`` is given and differs (the environment is then the
    source of truth). Returns what was done; raises ``ValueError`` for an empty username.
    """
    username = username.strip()
    if not username:
        raise ValueError("The admin username must not be empty.")
    # The data migration creates both groups; get_or_create keeps this safe on a database
    # whose groups were deleted by hand.
    Group.objects.get_or_create(name=GROUP_OPERATORS)
    admins, _ = Group.objects.get_or_create(name=GROUP_ADMINS)

    user_model = get_user_model()
    user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
    generated_password = None
    if user is None:
        if not password:
            generated_password = password = secrets.token_urlsafe(15)
        user = user_model.objects.create_superuser(username=username, password=password)
        created, password_changed = True, True
    else:
        created = False
        password_changed = bool(password) and not user.check_password(password)
        if password_changed:
            user.set_password(password)
        user.is_superuser = user.is_staff = user.is_active = True
        user.save()
    user.groups.add(admins)
    return AdminEnsureResult(
        user=user,
        created=created,
        password_changed=password_changed,
        generated_password=generated_password,
    )
