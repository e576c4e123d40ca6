"""Passwords are hashed with Argon2 (the suite itself uses a fast hasher for speed)."""

from __future__ import annotations

import portsign.settings as product_settings
from portsign.accounts.models import User


def test_product_hashes_with_argon2():
    assert product_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_registered_password_is_stored_as_argon2(settings, api):
    settings.PASSWORD_HASHERS = product_settings.PASSWORD_HASHERS
    user = User.objects.create_user(
        password="Portsign#2026", name="Hash Test", phone="+8613800000088"
    )
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("Portsign#2026")
    assert not user.check_password("portsign#2026")
