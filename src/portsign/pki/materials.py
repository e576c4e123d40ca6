"""Materials of a certificate application (seed 003 资料上传).

Files are uploaded first (checked by content, stored content-addressed) and named by id when
applying, so the application itself stays a JSON request. The enterprise's business licence,
uploaded during enterprise verification, is attached automatically: "在前置步骤中已上传的会同步到
本页面". With the back-office policy the materials go to the reviewer with the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid
from portsign.common.uploads import check_and_store
from portsign.enterprises.models import Enterprise
from portsign.pki.models import CertificateApplication, CertificateMaterial

MAX_BYTES = 10 * 2**20
MAX_PER_APPLICATION = 10
# Uploaded but not (yet) named by an application: a bound on what one person can park.
MAX_UNATTACHED = 20
UNATTACHED_RETENTION = timedelta(hours=24)
LICENCE = "business_licence"
MATERIAL = "material"
_KIND_OF_SUFFIX = {".jpg": "jpeg", ".png": "png", ".pdf": "pdf"}


def upload_material(*, actor: User, upload: UploadedFile | None) -> CertificateMaterial:
    """Check and store one file (JPEG, PNG or PDF up to 10 MB) for a coming application."""
    if CertificateMaterial.objects.filter(uploaded_by=actor, application__isnull=True).count() >= (
        MAX_UNATTACHED
    ):
        raise Conflict(
            _("Too many files wait for an application. Apply with them or try again tomorrow."),
            code="materials_too_many",
        )
    stored = check_and_store(
        upload,
        folder="certificate-materials",
        allowed={"jpeg", "png", "pdf"},
        max_bytes=MAX_BYTES,
        field="file",
    )
    with transaction.atomic():
        material = CertificateMaterial.objects.create(
            uploaded_by=actor,
            label=MATERIAL,
            path=stored.path,
            sha256=stored.sha256,
            kind=stored.kind,
            size=stored.size,
        )
        record_event(
            action="certificate.material_uploaded",
            actor_id=actor.id,
            object_type="certificate_material",
            object_id=material.id,
            data={"sha256": stored.sha256, "kind": stored.kind, "size": stored.size},
        )
    return material


def claim_materials(*, actor: User, material_ids: Sequence[str]) -> list[CertificateMaterial]:
    """The actor's own unattached uploads named by *material_ids*; anything else is refused
    as a whole, without saying whether someone else's id exists."""
    wanted = list(dict.fromkeys(material_ids))
    if len(wanted) > MAX_PER_APPLICATION:
        message = _("Attach at most %(n)d files.") % {"n": MAX_PER_APPLICATION}
        raise Invalid(message, code="materials_too_many", fields={"material_ids": message})
    found = list(
        CertificateMaterial.objects.filter(
            pk__in=wanted, uploaded_by=actor, application__isnull=True
        )
    )
    if len(found) != len(wanted):
        message = _("Upload the files again: some are unknown or already attached.")
        raise Invalid(message, code="material_invalid", fields={"material_ids": message})
    return sorted(found, key=lambda m: wanted.index(m.id))


def _licence_of(enterprise: Enterprise, actor: User) -> CertificateMaterial | None:
    if not enterprise.licence_path:
        return None
    suffix = PurePosixPath(enterprise.licence_path).suffix.lower()
    try:
        size: int | None = default_storage.size(enterprise.licence_path)
    except OSError:
        size = None  # the row still names the file the enterprise was verified with
    return CertificateMaterial(
        uploaded_by=actor,
        label=LICENCE,
        path=enterprise.licence_path,
        sha256=enterprise.licence_sha256,
        kind=_KIND_OF_SUFFIX.get(suffix, "pdf"),
        size=size,
    )


def attach(
    application: CertificateApplication, claimed: Sequence[CertificateMaterial]
) -> list[CertificateMaterial]:
    """Attach the claimed uploads, plus the enterprise's licence. Inside the application's
    transaction; claimed rows are taken only if still unattached (a double submit loses)."""
    attached: list[CertificateMaterial] = []
    if application.enterprise is not None:
        licence = _licence_of(application.enterprise, application.applicant)
        if licence is not None:
            licence.application = application
            licence.save()
            attached.append(licence)
    for position, material in enumerate(claimed, start=1):
        taken = CertificateMaterial.objects.filter(pk=material.pk, application__isnull=True).update(
            application=application, position=position
        )
        if not taken:
            message = _("Upload the files again: some are unknown or already attached.")
            raise Invalid(message, code="material_invalid", fields={"material_ids": message})
        material.application, material.position = application, position
        attached.append(material)
    return attached


def review_files(materials: Sequence[CertificateMaterial]) -> list[dict[str, str]]:
    return [{"label": m.label, "path": m.path, "kind": m.kind} for m in materials]


def drop_unattached(*, now: datetime) -> int:
    """Forget uploads no application named within a day. Only the rows go: stored files are
    content-addressed and may be shared with other records."""
    return CertificateMaterial.objects.filter(
        application__isnull=True, created_at__lt=now - UNATTACHED_RETENTION
    ).delete()[0]
