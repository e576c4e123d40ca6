"""Seal pre-processing (签章预处理, SPEC C3; seed 000 took two working days — this takes seconds).

The enterprise downloads a collection form (签章采集表), stamps it, and uploads the scan. The
red seal is cut out automatically (seals/extract.py) after the upload commits; the result waits
for a back-office reviewer, who confirms it — it becomes a usable seal — or returns it with a
reason. Statuses: 处理中 processing → 待确认 awaiting → 已完成 completed | 退回 returned.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portsign.accounts.models import User
from portsign.backoffice import domain as backoffice
from portsign.backoffice.models import Review
from portsign.backoffice.registry import ReviewKind, register
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, NotFound
from portsign.common.uploads import check_and_store, store_bytes
from portsign.enterprises.models import Enterprise, Membership
from portsign.enterprises.rules import membership_of
from portsign.seals import collection_form
from portsign.seals.domain.seals import (
    DEFAULT_NAMES,
    ENTERPRISE_KINDS,
    add_enterprise_seal,
    parse_kind,
    seal_label,
    seal_manager,
)
from portsign.seals.extract import NoSealFound, extract_seal
from portsign.seals.models import ScanStatus, SealKind, SealScan, SealSource

log = logging.getLogger(__name__)
SCAN_KIND = "seal_scan"
MAX_SCAN_BYTES = 10 * 2**20


def submit_scan(
    *, actor: User, enterprise_id: str, upload: UploadedFile | None, kind: str, name: str = ""
) -> SealScan:
    membership = seal_manager(actor, enterprise_id)
    seal_kind = parse_kind(kind, ENTERPRISE_KINDS)
    label = seal_label(name, seal_kind)
    stored = check_and_store(
        upload, folder="seal-scans", allowed={"jpeg", "png", "pdf"}, max_bytes=MAX_SCAN_BYTES
    )
    with transaction.atomic():
        scan = SealScan.objects.create(
            enterprise_id=membership.enterprise_id,
            kind=seal_kind,
            name=label,
            scan_path=stored.path,
            scan_sha256=stored.sha256,
            submitted_by=actor,
        )
        _audit(scan, actor.id, "seal_scan.submitted", {"kind": seal_kind})
        transaction.on_commit(lambda: _queue(scan.id))
    return scan


def _queue(scan_id: str) -> None:
    from portsign.seals.tasks import task_process_scan

    task_process_scan.delay(scan_id=scan_id)


def process_scan(*, scan_id: str) -> SealScan | None:
    """Extract the seal and hand it to review. Safe to run twice: only `processing` moves."""
    scan = SealScan.objects.filter(pk=scan_id, status=ScanStatus.PROCESSING).first()
    if scan is None:
        return None
    with default_storage.open(scan.scan_path) as handle:
        data = handle.read()
    kind = "pdf" if scan.scan_path.endswith(".pdf") else "image"
    try:
        extracted = extract_seal(data, kind)
    except NoSealFound:
        return _conclude_unreadable(
            scan,
            _(
                "No red seal was found on the scan. Stamp the form in red ink and scan it in "
                "colour."
            ),
        )
    except Exception:  # a damaged file that passed the upload checks
        log.exception("seal scan %s could not be processed", scan.id)
        return _conclude_unreadable(scan, _("The scan could not be read. Upload it again."))
    stored = store_bytes(extracted.png, folder="seal-scans", kind="png")
    with transaction.atomic():
        scan = SealScan.objects.select_for_update().get(pk=scan.pk)
        if scan.status != ScanStatus.PROCESSING:
            return scan
        scan.extracted_path, scan.extracted_sha256 = stored.path, stored.sha256
        scan.width_mm = Decimal(str(extracted.width_mm))
        scan.height_mm = Decimal(str(extracted.height_mm))
        scan.status, scan.processed_at = ScanStatus.AWAITING_CONFIRMATION, timezone.now()
        scan.save()
        enterprise = scan.enterprise
        backoffice.submit_review(
            kind=SCAN_KIND,
            subject_id=scan.id,
            title=f"{enterprise.name} · {scan.name}",
            files=[
                {"label": "scan", "path": scan.scan_path},
                {"label": "extracted", "path": stored.path},
            ],
            details={
                "enterprise": enterprise.name,
                "uscc": enterprise.uscc,
                "kind": str(SealKind(scan.kind).label),
                "name": scan.name,
                "size_mm": f"{scan.width_mm} × {scan.height_mm}",
            },
            submitted_by=scan.submitted_by,
        )
        _audit(scan, "", "seal_scan.extracted", {"sha256": stored.sha256})
    return scan


def _conclude_unreadable(scan: SealScan, reason: str) -> SealScan:
    with transaction.atomic():
        scan = SealScan.objects.select_for_update().get(pk=scan.pk)
        if scan.status == ScanStatus.PROCESSING:
            scan.status, scan.reason = ScanStatus.RETURNED, reason
            scan.processed_at = scan.decided_at = timezone.now()
            scan.save()
            _audit(scan, "", "seal_scan.returned", {"reason": reason})
    return scan


def scans_of(*, actor: User, enterprise_id: str) -> QuerySet[SealScan]:
    membership_of(user=actor, enterprise_id=enterprise_id)
    return SealScan.objects.filter(enterprise_id=enterprise_id).order_by("-created_at")


def visible_scan(*, actor: User, scan_id: str) -> SealScan:
    scan = SealScan.objects.filter(pk=scan_id).first()
    if scan is None:
        raise NotFound()
    membership_of(user=actor, enterprise_id=scan.enterprise_id)
    return scan


# -- review ------------------------------------------------------------------------------------


def _approve(review: Review, reviewer: User) -> None:
    scan = SealScan.objects.select_for_update().get(pk=review.subject_id)
    if scan.status != ScanStatus.AWAITING_CONFIRMATION:
        raise Conflict(_("This scan is not waiting for confirmation."), code="scan_not_awaiting")
    membership = (
        Membership.objects.select_related("enterprise", "role")
        .filter(enterprise_id=scan.enterprise_id, user_id=scan.submitted_by_id, is_active=True)
        .first()
    )
    if membership is None:  # the submitter left: the main administrator holds it instead
        membership = Membership.objects.select_related("enterprise", "role").get(
            enterprise_id=scan.enterprise_id, user_id=scan.enterprise.main_admin_id
        )
    with default_storage.open(scan.extracted_path) as handle:
        png = handle.read()
    seal = add_enterprise_seal(
        actor=membership.user,
        membership=membership,
        kind=SealKind(scan.kind),
        name=scan.name,
        png=png,
        source=SealSource.EXTRACTED,
        width_mm=scan.width_mm or Decimal("40"),
        height_mm=scan.height_mm or Decimal("40"),
    )
    scan.seal, scan.status, scan.decided_at = seal, ScanStatus.COMPLETED, timezone.now()
    scan.save(update_fields=["seal", "status", "decided_at"])
    _audit(scan, reviewer.id, "seal_scan.confirmed", {"seal": seal.id})


def _return(review: Review, reviewer: User) -> None:
    scan = SealScan.objects.select_for_update().get(pk=review.subject_id)
    scan.status, scan.reason, scan.decided_at = (
        ScanStatus.RETURNED,
        review.opinion,
        timezone.now(),
    )
    scan.save(update_fields=["status", "reason", "decided_at"])
    _audit(scan, reviewer.id, "seal_scan.returned", {"reason": review.opinion})


def _is_member(review: Review, reviewer: User) -> bool:
    scan = SealScan.objects.filter(pk=review.subject_id).first()
    return (
        scan is not None
        and Membership.objects.filter(enterprise_id=scan.enterprise_id, user=reviewer).exists()
    )


register(
    ReviewKind(
        SCAN_KIND,
        gettext_lazy("Seal pre-processing"),
        _approve,
        _return,
        _is_member,
        {
            "enterprise": gettext_lazy("Enterprise name"),
            "uscc": gettext_lazy("Unified social credit code"),
            "kind": gettext_lazy("Seal type"),
            "name": gettext_lazy("Seal name"),
            "size_mm": gettext_lazy("Size (mm)"),
            "scan": gettext_lazy("Uploaded scan"),
            "extracted": gettext_lazy("Extracted seal"),
        },
    )
)


# -- the collection form -----------------------------------------------------------------------


def collection_form_pdf(*, actor: User, enterprise_id: str) -> bytes:
    """签章采集表: an A4 page with one box per seal kind to stamp in red and scan in colour."""
    enterprise: Enterprise = membership_of(user=actor, enterprise_id=enterprise_id).enterprise
    return collection_form.collection_form_pdf(
        name=enterprise.name,
        uscc=enterprise.uscc,
        day=timezone.localdate(),
        labels=[str(DEFAULT_NAMES[kind]) for kind in ENTERPRISE_KINDS],
    )


def _audit(scan: SealScan, actor_id: str, action: str, data: dict[str, str]) -> None:
    record_event(
        action=action,
        actor_id=actor_id,
        acting_as=scan.enterprise_id,
        object_type="seal_scan",
        object_id=scan.id,
        data=data,
    )
