"""Session authentication backend. Credential checks live in domain/login.py; this only
resolves the user stored in a session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from portsign.accounts.models import User


def signed_in_user(request: Any) -> User:
    """The request's user on views and endpoints that already require sign-in."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionError("signed_in_user() used on an anonymous request")
    return user


class AccountBackend(BaseBackend):
    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None  # sign-in goes through portsign.accounts.domain.login

    def get_user(self, user_id: Any) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()
