"""What happens when a review of a given kind is approved or returned.

Apps register their kinds (enterprise authorization letters now; seal scans and certificate
applications later), so the back office never needs to know the apps' internals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.functional import Promise

if TYPE_CHECKING:
    from portsign.accounts.models import User
    from portsign.backoffice.models import Review


@dataclass(frozen=True)
class ReviewKind:
    key: str
    label: str | Promise
    on_approve: Callable[[Review, User], None]
    on_return: Callable[[Review, User], None]
    # True when the reviewer has a stake in the subject (e.g. belongs to the enterprise).
    is_interested: Callable[[Review, User], bool] = lambda review, reviewer: False
    # Reviewer-facing labels of the keys in Review.details and of the files' labels.
    labels: dict[str, str | Promise] = field(default_factory=dict)


_KINDS: dict[str, ReviewKind] = {}


def register(kind: ReviewKind) -> None:
    _KINDS[kind.key] = kind


def kind_of(key: str) -> ReviewKind:
    return _KINDS[key]
