"""What an enterprise API key may be given (API.md "Enterprise API keys")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portsign.enterprises.enums import Permission


class ApiKeyScope(models.TextChoices):
    CONTRACTS_READ = "contracts:read", _("Read the enterprise's contracts")
    CONTRACTS_WRITE = "contracts:write", _("Create and send contracts")
    WEBHOOKS = "webhooks", _("Manage webhooks")


# The role permissions each scope grants the key's service account, so every endpoint's own
# permission check enforces the scope. Webhook endpoints require manage_enterprise (webhooks
# domain); rules.SCOPE_PATHS keeps that permission from reaching anything but webhooks. No
# scope grants use_seals, approve or manage_members: signing, approving and managing people
# need a person's intent (电子签名法 §13), and a key must never manage keys.
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ApiKeyScope.CONTRACTS_READ: (Permission.VIEW_CONTRACTS,),
    ApiKeyScope.CONTRACTS_WRITE: (Permission.SEND_CONTRACTS, Permission.VIEW_CONTRACTS),
    ApiKeyScope.WEBHOOKS: (Permission.MANAGE_ENTERPRISE,),
}
