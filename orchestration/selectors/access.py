"""Who may do what. Operators run, watch and answer; admins also configure.

A superuser counts as an admin. A logged-in user in neither group is a stranger: they see only
the runs they started themselves (if any) and nothing else.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from orchestration.models import Conversation
from orchestration.services.accounts import GROUP_ADMINS, GROUP_OPERATORS

AnyUser = AbstractBaseUser | AnonymousUser


def _group_names(user: AnyUser) -> set[str]:
    # Cached on the user object: a page asks several times per request.
    cached = getattr(user, "_mmos_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._mmos_group_names = cached  # type: ignore[union-attr]
    return cached


def user_is_admin(user: AnyUser) -> bool:
    """True for superusers and members of ``admins``."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(getattr(user, "is_superuser", False)) or GROUP_ADMINS in _group_names(user)


def user_is_operator(user: AnyUser) -> bool:
    """True for anyone who may start, watch and steer runs: operators and admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user_is_admin(user) or GROUP_OPERATORS in _group_names(user)


def conversation_visible(*, conversation: Conversation, user: AnyUser) -> bool:
    """Operators and admins see every run; anyone else only the runs they started."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user_is_operator(user) or conversation.created_by_id == user.pk
