"""Who is asking, from where: set once per request by middleware, read by the audit log.

A context variable (not a function argument) because every domain write is audited and
threading IP/user-agent through every signature would drown the business parameters.
Code outside a request (commands, tasks) simply records an empty origin.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str = ""
    user_agent: str = ""


_origin: ContextVar[Origin] = ContextVar("portsign_origin", default=Origin())  # noqa: B039 - frozen


def current_origin() -> Origin:
    return _origin.get()


def set_origin(origin: Origin) -> object:
    return _origin.set(origin)


def reset_origin(token: object) -> None:
    _origin.reset(token)  # type: ignore[arg-type]
