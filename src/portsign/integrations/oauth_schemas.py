"""API shapes of platform bindings (API.md "platform bindings", SPEC B6)."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from portsign.integrations.domain.bindings import SharedFacts
from portsign.integrations.models import Binding, SigningReturn


class BoundPlatformOut(Schema):
    client_id: str
    name: str


class BoundEnterpriseOut(Schema):
    id: str
    name: str
    uscc: str


class BindingOut(Schema):
    id: str
    application: BoundPlatformOut
    enterprise: BoundEnterpriseOut | None = Field(
        description="the enterprise the platform acts for; null: for the person themselves"
    )
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute")

    @classmethod
    def of(cls, binding: Binding) -> BindingOut:
        enterprise = binding.enterprise
        return cls(
            id=binding.id,
            application=BoundPlatformOut(
                client_id=binding.application.client_id, name=binding.application.name
            ),
            enterprise=(
                BoundEnterpriseOut(id=enterprise.id, name=enterprise.name, uscc=enterprise.uscc)
                if enterprise
                else None
            ),
            scopes=binding.scopes,
            created_at=binding.created_at,
            last_used_at=binding.last_used_at,
        )


class SharedEnterpriseOut(Schema):
    id: str
    name: str
    uscc: str
    legal_rep_name: str
    status: str = Field(description="unverified | verifying | verified")


class SharedFactsOut(Schema):
    """Exactly what the consent page listed, for the platform that holds the binding."""

    binding_id: str
    account: str = Field(description="the person's mobile number or e-mail, masked")
    name: str
    real_name_verified: bool
    enterprise: SharedEnterpriseOut | None = Field(
        description="the bound enterprise; null: the platform acts for the person"
    )
    scopes: list[str]
    created_at: datetime

    @classmethod
    def of(cls, binding: Binding, facts: SharedFacts) -> SharedFactsOut:
        e = facts.enterprise
        return cls(
            binding_id=binding.id,
            account=facts.account,
            name=facts.name,
            real_name_verified=facts.real_name_verified,
            enterprise=(
                SharedEnterpriseOut(
                    id=e.id,
                    name=e.name,
                    uscc=e.uscc,
                    legal_rep_name=e.legal_rep_name,
                    status=e.status,
                )
                if e
                else None
            ),
            scopes=binding.scopes,
            created_at=binding.created_at,
        )


class SigningReturnIn(Schema):
    contract_id: str
    return_url: str = Field(description="on the origin of one of the platform's redirect URIs")
    state: str = Field("", description="opaque to PortSign, at most 200 characters")


class SigningReturnOut(Schema):
    id: str
    contract_id: str
    url: str = Field(description="send the person here after they sign (PortSign's page)")
    return_url: str
    state: str

    @classmethod
    def of(cls, found: SigningReturn, url: str) -> SigningReturnOut:
        return cls(
            id=found.id,
            contract_id=found.contract_id,
            url=url,
            return_url=found.return_url,
            state=found.state,
        )
