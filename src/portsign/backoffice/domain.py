"""Manual review (SPEC B1 人工审核): submit, approve or return with a mandatory opinion."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.backoffice.models import Review, ReviewStatus
from portsign.backoffice.registry import kind_of
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, NotFound
from portsign.common.text import clean_text


def submit_review(
    *,
    kind: str,
    subject_id: str,
    title: str,
    files: list[dict[str, str]],
    details: dict[str, str],
    submitted_by: User,
) -> Review:
    """Queue a review. Call inside the transaction of the submission it reviews."""
    kind_of(kind)  # unknown kinds are a programming error, fail loudly
    if Review.objects.filter(
        kind=kind, subject_id=subject_id, status=ReviewStatus.PENDING
    ).exists():
        raise Conflict(_("A submission is already waiting for review."), code="review_pending")
    review = Review.objects.create(
        kind=kind,
        subject_id=subject_id,
        title=title[:200],
        files=files,
        details=details,
        submitted_by=submitted_by,
    )
    record_event(
        action="review.submitted",
        actor_id=submitted_by.id,
        object_type="review",
        object_id=review.id,
        data={"kind": kind, "subject": subject_id},
    )
    return review


def _require_staff(user: User) -> None:
    if not (user.is_active and user.is_staff):
        raise NotFound()


def review_queue(*, reviewer: User, status: str = ReviewStatus.PENDING) -> QuerySet[Review]:
    _require_staff(reviewer)
    return (
        Review.objects.select_related("submitted_by", "reviewer")
        .filter(status=status)
        .order_by("submitted_at")
    )


def open_review(*, reviewer: User, review_id: str) -> Review:
    """A reviewer opens a submission: every look at applicants' materials is audited."""
    _require_staff(reviewer)
    review = Review.objects.select_related("submitted_by", "reviewer").filter(pk=review_id).first()
    if review is None:
        raise NotFound()
    record_event(
        action="review.opened", actor_id=reviewer.id, object_type="review", object_id=review.id
    )
    return review


def decide_review(*, reviewer: User, review_id: str, approve: bool, opinion: str) -> Review:
    _require_staff(reviewer)
    clean = clean_text(
        opinion,
        field="opinion",
        min_length=2,
        max_length=500,
        code="opinion_required",
        message=_("Write a review opinion (2 to 500 characters)."),
    )
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            raise NotFound()
        if review.submitted_by_id == reviewer.id or kind_of(review.kind).is_interested(
            review, reviewer
        ):
            raise Conflict(
                _(
                    "You cannot review a submission you made or that concerns your own "
                    "enterprise. Leave it to another reviewer."
                ),
                code="reviewer_interested",
            )
        if review.status != ReviewStatus.PENDING:
            raise Conflict(_("This submission was already reviewed."), code="already_reviewed")
        review.status = ReviewStatus.APPROVED if approve else ReviewStatus.RETURNED
        review.reviewer, review.opinion = reviewer, clean[:500]
        review.reviewed_at = timezone.now()
        review.save(update_fields=["status", "reviewer", "opinion", "reviewed_at"])
        kind = kind_of(review.kind)
        (kind.on_approve if approve else kind.on_return)(review, reviewer)
        record_event(
            action=f"review.{review.status}",
            actor_id=reviewer.id,
            object_type="review",
            object_id=review.id,
            data={"kind": review.kind, "subject": review.subject_id, "opinion": clean},
        )
    return review


def latest_review(*, kind: str, subject_id: str) -> Review | None:
    return Review.objects.filter(kind=kind, subject_id=subject_id).order_by("-submitted_at").first()
