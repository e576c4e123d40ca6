"""The configured real-name provider, built once per process."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from portsign.accounts.realname.base import RealNameProvider


@cache
def realname_provider() -> RealNameProvider:
    if settings.REALNAME_PROVIDER == "tencent":
        from portsign.accounts.realname.tencent import TencentFaceIdProvider

        return TencentFaceIdProvider(**dict(settings.TENCENT_FACEID))
    from portsign.accounts.realname.sandbox import SandboxRealNameProvider

    return SandboxRealNameProvider()


def provider_name() -> str:
    return str(settings.REALNAME_PROVIDER)
