from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group

from orchestration.services.accounts import admin_account_ensure

pytestmark = pytest.mark.django_db


def test_missing_admin_is_created_as_superuser_in_admins_with_a_generated_password() -> None:
    result = admin_account_ensure(username="admin")

    assert result.created
    assert result.generated_password
    user = authenticate(username="admin", password=result.generated_password)
    assert user is not None
    assert user.is_superuser and user.is_staff and user.is_active
    assert list(user.groups.values_list("name", flat=True)) == ["admins"]


def test_generated_password_is_stored_only_as_a_hash() -> None:
    result = admin_account_ensure(username="admin")

    stored = get_user_model().objects.get(username="admin").password
    assert result.generated_password not in stored
    assert stored.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt"))


def test_second_call_keeps_the_account_and_its_password() -> None:
    first = admin_account_ensure(username="admin")

    second = admin_account_ensure(username="admin")

    assert not second.created
    assert second.generated_password is None
    assert not second.password_changed
    assert authenticate(username="admin", password=first.generated_password) is not None
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_password_from_the_environment_is_used_for_a_new_account() -> None:
    result = admin_account_ensure(username="alice", password="alice-has-a-long-passphrase")

    assert result.created
    assert result.generated_password is None
    assert authenticate(username="alice", password="alice-has-a-long-passphrase") is not None


def test_a_different_given_password_replaces_the_existing_one() -> None:
    admin_account_ensure(username="alice", password="first-passphrase-for-alice")

    result = admin_account_ensure(username="alice", password="second-passphrase-for-alice")

    assert result.password_changed
    assert authenticate(username="alice", password="first-passphrase-for-alice") is None
    assert authenticate(username="alice", password="second-passphrase-for-alice") is not None


def test_an_existing_plain_user_is_promoted_to_admin() -> None:
    get_user_model().objects.create_user(username="bob", password="bob-passphrase-123")

    result = admin_account_ensure(username="bob")

    bob = get_user_model().objects.get(username="bob")
    assert not result.created and result.generated_password is None
    assert bob.is_superuser and bob.is_staff
    assert bob.groups.filter(name="admins").exists()
    assert bob.check_password("bob-passphrase-123")


def test_groups_deleted_by_hand_are_created_again() -> None:
    Group.objects.filter(name__in=["operators", "admins"]).delete()

    admin_account_ensure(username="admin")

    assert set(Group.objects.values_list("name", flat=True)) >= {"operators", "admins"}


def test_empty_username_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        admin_account_ensure(username="  ")
