"""PAdES signing engine: visible approval signatures (B-T), archiving (B-LTA) and verification.

Public API: `sign_approval`, `archive`, `verify`, with `Mark`, `Report`, `SignatureReport`
and `SigningError` (one `code` per kind of bad input; never a bare pyHanko exception).

* `sign_approval` adds ONE approval signature per call (no certification/DocMDP signature, so
  later parties can still add theirs): CAdES detached (/ETSI.CAdES.detached) with the
  signing-certificate-v2 attribute and a signature timestamp from our TSA, called in process
  (`_InProcessTimeStamper` hands the request to `services.timestamp`: no HTTP to ourselves).
* `archive` makes the document B-LTA: a DSS with every certificate, OCSP response (from our
  responder, in process) and CRL (`build_crl`) that the signatures and timestamps need, and a
  document timestamp over it, both in one incremental revision.
* `verify` reports each signature and document timestamp as pyHanko judges it against our root,
  offline: the DSS certificates plus revocation data our CA produces now.

Marks. Every mark of a call (seal, signature image, date stamp, on any page) is a widget
annotation of the one signature field being signed, each with its own appearance stream, in
the incremental revision the signature covers. The first image mark is the field's first
widget. Alternative measured and rejected: extra marks as Stamp annotations (Print|ReadOnly|
Locked) in the signed revision. That revision itself validates, but when a LATER party adds
its revision with Stamp annotations, pyHanko's difference analysis (0.38) refuses them for
every earlier signature ("The newly added annotations ... were not recognised": modification
level OTHER, docmdp_ok False, bottom_line False) although their bytes are intact; pdfsig only
checks digests and says "Signature is Valid." either way. Widgets of a new signature field are
accepted (level FORM_FILLING, docmdp_ok True), multiple widgets included, so with this design
every earlier signature stays valid for pyHanko as well as for pdfsig. The widgets carry no
/Parent, as pyHanko writes its own: with /Parent, poppler 22.12 inherits /FT through it, takes
each widget for a child field and pdfsig reports "The signature form field is not signed"
(measured); pyHanko and pdfium find the widgets through the field's /Kids either way.
(tests/pki/test_pades.py checks both tools on a two-party document.)

Coordinates come as a browser UI sends them: fractions of the displayed page (crop box, after
/Rotate), origin top-left; the height follows from the image's aspect ratio. Date stamps are
rendered with Pillow in Noto Sans CJK (no font embedding needed, any script prints).

How: pyHanko's PdfSigner insists on one widget per field, so the field is built here and
pyHanko's lower-level PdfCMSEmbedder writes the placeholder and the byte-range digest; the CMS
itself is assembled here from parts encoded once per signer (`_cms_parts`), because asn1crypto
re-encodes certificates and names every time pyHanko's Signer puts them in a new structure.

Speed (bench/sign.py, 10-page PDF, visible seal, RSA-2048): ~9 ms a signature against ~215 ms
for stock pyHanko used as documented (ratio ~0.04). Keys come parsed from `signer_for`,
decoded images (by sha256 of the PNG) and rendered date stamps are cached per process, TSA
tokens reuse their certificate parts, and there is no size-estimation dry run: the reservation
is computed from the certificates' sizes, so one signature is one RSA signature and one token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import math
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from asn1crypto import algos, cms, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.signers.cms_embedder import PdfCMSEmbedder, SigIOSetup, SigObjSetup
from pyhanko.sign.signers.pdf_byterange import SignatureObject
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError, ValidationInfoReadingError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from portsign.common.errors import Invalid
from portsign.common.pdf import PDF_READ_ERRORS
from portsign.pki import services
from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.models import IssuedCertificate
from portsign.pki.responders import Responder, cms_sign, cms_signature_algorithm
from portsign.pki.revocation import build_crl
from portsign.pki.signer import VaultSigner, signer_for, to_asn1

T = TypeVar("T")
logger = logging.getLogger(__name__)

MD_ALGORITHM = "sha256"
# Room for the CMS container, whose size is only known after signing: its certificates (known),
# a TSA token (about its certificate plus as much again: measured 1.2 kB for ECDSA P-256, 1.8
# kB for RSA-2048, 2.2 kB for RSA-3072) and the signed attributes and signature, plus margin.
# Tight on purpose: readers (pyHanko too) parse /Contents as hex, ~2 ms per kB.
RESERVE_MARGIN = 2048
MAX_IMAGE_PIXELS = 4096 * 4096  # a 300-dpi seal is ~500 px wide; refuse decompression bombs
DATE_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DATE_INK = (20, 20, 30)
# Annotation flags (ISO 32000-1 12.5.3): Print | Locked. ReadOnly is ignored on widgets (the
# field's own flag governs them), and a signed field is never editable anyway.
WIDGET_FLAGS = 4 | 128
_EPSILON = 1e-6


class SigningError(Invalid):
    """Bad input to the PAdES engine; `code` says which (see each raise)."""

    code = "pdf_invalid"


@dataclass(frozen=True)
class Mark:
    """One thing placed on a page, in fractions of the displayed page, origin top-left."""

    page: int  # 1-based
    x: float
    y: float
    width: float
    png: bytes | None  # transparent PNG (seal, signature); None with `text` for a date stamp
    text: str = ""  # e.g. "2026-11-23"


@dataclass(frozen=True)
class SignatureReport:
    field_name: str
    kind: str  # "approval", "certification" or "timestamp" (a document timestamp)
    signer: str  # the certificate's common name (the TSA's, for a document timestamp)
    organisation: str
    organisation_identifier: str  # ETSI organizationIdentifier, e.g. "NTRCN-<USCC>"
    signed_at: dt.datetime | None  # as claimed by the signer (/M)
    timestamp: dt.datetime | None  # from the TSA: the signature's or the document timestamp
    certificate_status: str  # "good", "revoked" or "untrusted"
    revoked_at: dt.datetime | None
    covers_whole_document: bool
    intact: bool  # the signed bytes are unchanged and the signature matches them
    trusted: bool  # the certificate chains to our root and is not revoked
    modification_level: str  # what later revisions did: "none", "lta_updates", ... "other"
    valid: bool  # pyHanko's bottom line: all of the above, and any timestamp, are fine


@dataclass(frozen=True)
class Report:
    intact: bool  # every signature's bytes are intact
    valid: bool  # every signature is valid
    signatures: tuple[SignatureReport, ...]

    @property
    def approvals(self) -> tuple[SignatureReport, ...]:
        return tuple(s for s in self.signatures if s.kind != "timestamp")

    @property
    def timestamps(self) -> tuple[SignatureReport, ...]:
        return tuple(s for s in self.signatures if s.kind == "timestamp")


# --- running pyHanko's async API -------------------------------------------------------------


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, also when this thread runs an event loop
    (asyncio.run refuses that): then it runs in a helper thread, as a server thread would."""
    try:
        asyncio.get_running_loop()
        loop_running = True
    except RuntimeError:
        loop_running = False
    if not loop_running:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


class _InProcessTimeStamper(TimeStamper):
    """pyHanko's TSA client, answered by our own TSA function instead of over HTTP."""

    def __init__(self, responder: Responder) -> None:
        super().__init__(include_nonce=True)
        self._responder = responder
        self.token_size_bound = 2 * len(
            responder.certificate.public_bytes(serialization.Encoding.DER)
        )

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        answer = services.timestamp(req.dump(), tsa=self._responder)
        return tsp.TimeStampResp.load(answer)


def timestamper() -> _InProcessTimeStamper:
    """A pyHanko TimeStamper backed by PortSign's TSA in this process (one DB read)."""
    return _InProcessTimeStamper(services.responder(Role.TSA))


# --- reading input ---------------------------------------------------------------------------


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    if not pdf.lstrip()[:5] == b"%PDF-":
        raise SigningError(_("The file is not a PDF document."), code="pdf_invalid")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        # Read the page tree now, so a broken file fails here and not deep in pyHanko.
        pages = int(writer.root["/Pages"]["/Count"])
    except PDF_READ_ERRORS as exc:
        raise SigningError(
            _("The PDF document cannot be read: %(error)s") % {"error": exc},
            code="pdf_invalid",
        ) from exc
    if pages < 1:
        raise SigningError(_("The PDF document has no pages."), code="pdf_invalid")
    if writer.prev.security_handler is not None:
        raise SigningError(
            _("The PDF document is encrypted; PortSign handles unprotected documents only."),
            code="pdf_encrypted",
        )
    return writer


def _reader(pdf: bytes) -> PdfFileReader:
    return _writer(pdf).prev


# --- images and appearances ------------------------------------------------------------------


@dataclass(frozen=True)
class _Image:
    width: int
    height: int
    rgb: bytes  # Flate-compressed, 8 bits per component
    alpha: bytes | None  # Flate-compressed soft mask, None when fully opaque


_IMAGES: OrderedDict[str, _Image] = OrderedDict()
_IMAGES_LOCK = threading.Lock()  # server threads share the cache
_IMAGE_CACHE_SIZE = 256


def _decode_png(png: bytes) -> _Image:
    try:
        opened = Image.open(io.BytesIO(png))
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            raise SigningError(_("The mark image is too large."), code="image_invalid")
        image = opened.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise SigningError(_("A mark image is not a valid PNG."), code="image_invalid") from exc
    alpha = image.getchannel("A")
    opaque = alpha.getextrema() == (255, 255)
    return _Image(
        width=image.width,
        height=image.height,
        rgb=zlib.compress(image.convert("RGB").tobytes()),
        alpha=None if opaque else zlib.compress(alpha.tobytes()),
    )


def _image(png: bytes) -> _Image:
    """The decoded image, cached by content: a seal is placed thousands of times."""
    key = hashlib.sha256(png).hexdigest()
    with _IMAGES_LOCK:
        found = _IMAGES.get(key)
        if found is not None:
            _IMAGES.move_to_end(key)
            return found
    found = _decode_png(png)  # outside the lock: a race only decodes twice
    with _IMAGES_LOCK:
        _IMAGES[key] = found
        if len(_IMAGES) > _IMAGE_CACHE_SIZE:
            _IMAGES.popitem(last=False)
    return found


@lru_cache(maxsize=8)
def _date_font(size: int) -> ImageFont.FreeTypeFont:
    # The .ttc bundles regional variants; the Simplified Chinese one shapes dates like 年月日.
    for index in range(10):
        try:
            candidate = ImageFont.truetype(DATE_FONT, size, index=index)
        except OSError:
            break
        if (candidate.getname()[0] or "").endswith(" SC"):
            return candidate
    return ImageFont.truetype(DATE_FONT, size)


@lru_cache(maxsize=512)
def _text_image(text: str) -> _Image:
    """A date stamp as a transparent image: 64 px text (5.4 mm at 300 dpi), tight margins."""
    font = _date_font(64)
    left, top, right, bottom = (round(v) for v in font.getbbox(text))
    pad = 8
    canvas = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (*DATE_INK, 0))
    ImageDraw.Draw(canvas).text((pad - left, pad - top), text, font=font, fill=(*DATE_INK, 255))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return _decode_png(buffer.getvalue())


def _mark_image(mark: Mark) -> _Image:
    if mark.png is not None:
        return _image(mark.png)
    if mark.text.strip():
        return _text_image(mark.text.strip())
    raise SigningError(_("A mark needs an image or a text."), code="mark_empty")


def _image_xobject(writer: IncrementalPdfFileWriter, image: _Image) -> generic.IndirectObject:
    def stream(colour_space: str, data: bytes) -> generic.StreamObject:
        return generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): generic.NumberObject(image.width),
                pdf_name("/Height"): generic.NumberObject(image.height),
                pdf_name("/ColorSpace"): pdf_name(colour_space),
                pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=data,  # already compressed: pyHanko writes it as is
        )

    picture = stream("/DeviceRGB", image.rgb)
    if image.alpha is not None:
        picture[pdf_name("/SMask")] = writer.add_object(stream("/DeviceGray", image.alpha))
    return writer.add_object(picture)


# Appearance matrices that undo the page's /Rotate, so a mark reads upright as displayed.
_ROTATION_MATRIX = {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}


def _appearance(
    writer: IncrementalPdfFileWriter,
    image_ref: generic.IndirectObject,
    width: float,
    height: float,
    rotate: int,
) -> generic.IndirectObject:
    content = b"q %.4f 0 0 %.4f 0 0 cm /Im Do Q" % (width, height)
    return writer.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): _numbers((0, 0, width, height)),
                pdf_name("/Matrix"): _numbers((*_ROTATION_MATRIX[rotate], 0, 0)),
                pdf_name("/Resources"): generic.DictionaryObject(
                    {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Im"): image_ref})}
                ),
            },
            stream_data=content,
        )
    )


def _numbers(values: Iterable[float]) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 4)) for v in values)


# --- page geometry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    ref: generic.IndirectObject
    box: tuple[float, float, float, float]  # crop box in user space: llx, lly, urx, ury
    rotate: int  # 0, 90, 180 or 270 (clockwise, as displayed)

    @property
    def displayed_size(self) -> tuple[float, float]:
        llx, lly, urx, ury = self.box
        width, height = urx - llx, ury - lly
        return (height, width) if self.rotate in (90, 270) else (width, height)

    def to_user(self, u: float, v: float) -> tuple[float, float]:
        """A displayed point (from the top-left, y down, in points) in user space."""
        llx, lly, urx, ury = self.box
        if self.rotate == 90:
            return llx + v, lly + u
        if self.rotate == 180:
            return urx - u, lly + v
        if self.rotate == 270:
            return urx - v, ury - u
        return llx + u, ury - v


def _inherited(page: generic.DictionaryObject, key: str) -> Any:
    """A page attribute, looked up the page tree as ISO 32000-1 7.7.3.4 says."""
    node: Any = page
    for _depth in range(64):  # a cycle in /Parent must not hang us
        if key in node:
            return node[key]
        if "/Parent" not in node:
            return None
        node = node["/Parent"]
    return None


def _page(writer: IncrementalPdfFileWriter, number: int, count: int) -> _Page:
    if not 1 <= number <= count:
        raise SigningError(
            _("Page %(page)d does not exist; the document has %(count)d pages.")
            % {"page": number, "count": count},
            code="page_out_of_range",
        )
    ref, _resources = writer.find_page_for_modification(number - 1)
    page = ref.get_object()
    media = _inherited(page, "/MediaBox")
    crop = _inherited(page, "/CropBox") or media
    try:
        llx, lly, urx, ury = (float(v) for v in crop)
        rotate = int(_inherited(page, "/Rotate") or 0) % 360
    except (TypeError, ValueError) as exc:
        raise SigningError(_("The page has no valid size."), code="pdf_invalid") from exc
    if rotate not in _ROTATION_MATRIX or urx <= llx or ury <= lly:
        raise SigningError(_("The page has no valid size."), code="pdf_invalid")
    return _Page(ref=ref, box=(llx, lly, urx, ury), rotate=rotate)


def _placement(mark: Mark, page: _Page, image: _Image) -> tuple[list[float], float, float]:
    """The widget's /Rect, and the mark's displayed width and height in points."""
    page_width, page_height = page.displayed_size
    width = mark.width * page_width
    height = width * image.height / image.width
    values = (mark.x, mark.y, mark.width)
    inside = (
        all(math.isfinite(v) for v in values)
        and mark.x >= 0
        and mark.y >= 0
        and mark.width > 0
        and mark.x + mark.width <= 1 + _EPSILON
        and mark.y + height / page_height <= 1 + _EPSILON
    )
    if not inside:
        raise SigningError(
            _("A mark on page %(page)d lies outside the page.") % {"page": mark.page},
            code="mark_outside_page",
        )
    left, top = mark.x * page_width, mark.y * page_height
    corners = [page.to_user(left, top), page.to_user(left + width, top + height)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return [min(xs), min(ys), max(xs), max(ys)], width, height


# --- signing ---------------------------------------------------------------------------------


def _check_certificate(certificate_id: str) -> None:
    """Only a valid, unexpired certificate signs: `signer_for` caches keys, not statuses."""
    row = (
        IssuedCertificate.objects.filter(pk=certificate_id)
        .values("status", "not_before", "not_after")
        .first()
    )
    if row is None:
        raise SigningError(_("Unknown certificate."), code="certificate_unknown")
    if row["status"] != IssuedCertificate.Status.VALID:
        raise SigningError(
            _("The certificate is %(status)s and cannot sign.") % {"status": row["status"]},
            code="certificate_not_valid",
        )
    if not row["not_before"] <= timezone.now() < row["not_after"]:
        raise SigningError(
            _("The certificate is outside its validity period."), code="certificate_expired"
        )


def _check_field_name(reader: PdfFileReader, field_name: str) -> None:
    if not field_name or "." in field_name or len(field_name) > 100:
        raise SigningError(
            _("A field name is 1 to 100 characters without dots."), code="field_name_invalid"
        )
    try:
        fields = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        fields = ()
    if any(f.get_object().raw_get("/T") == field_name for f in fields):
        raise SigningError(
            _("The document already has a field named %(name)s.") % {"name": field_name},
            code="field_exists",
        )


def _add_field(
    writer: IncrementalPdfFileWriter, field_name: str, marks: list[Mark]
) -> generic.IndirectObject:
    """The signature field with one widget per mark, image marks first (see module doc)."""
    field = generic.DictionaryObject(
        {
            pdf_name("/FT"): pdf_name("/Sig"),
            pdf_name("/T"): pdf_string(field_name),
            pdf_name("/Kids"): generic.ArrayObject(),
        }
    )
    field_ref = writer.add_object(field)
    count = int(writer.root["/Pages"]["/Count"])
    ordered = sorted(marks, key=lambda m: m.png is None)  # stable: keeps the caller's order
    images: dict[_Image, generic.IndirectObject] = {}  # one XObject per distinct image
    widgets: list[tuple[generic.IndirectObject, generic.DictionaryObject]] = []
    for mark in ordered:
        page = _page(writer, mark.page, count)
        image = _mark_image(mark)
        rect, width, height = _placement(mark, page, image)
        if image not in images:
            images[image] = _image_xobject(writer, image)
        appearance = _appearance(writer, images[image], width, height, page.rotate)
        widgets.append((page.ref, _widget(page.ref, rect, appearance)))
    if not widgets:  # an invisible signature still has a widget (ISO 32000-1 12.7.4.5)
        first_page = _page(writer, 1, count).ref
        widgets.append((first_page, _widget(first_page, [0, 0, 0, 0], None)))
    for page_ref, widget in widgets:
        widget_ref = writer.add_object(widget)
        field["/Kids"].append(widget_ref)
        writer.register_annotation(page_ref, widget_ref)
    _register_field(writer, field_ref)
    return field_ref


def _widget(
    page_ref: generic.IndirectObject,
    rect: list[float],
    appearance: generic.IndirectObject | None,
) -> generic.DictionaryObject:
    widget = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/Rect"): _numbers(rect),
            pdf_name("/F"): generic.NumberObject(WIDGET_FLAGS),
            pdf_name("/P"): page_ref,
        }
    )
    if appearance is not None:
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): appearance})
    return widget


def _register_field(writer: IncrementalPdfFileWriter, field_ref: generic.IndirectObject) -> None:
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = writer.add_object(
            generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        )
        writer.update_root()
    form = root["/AcroForm"]
    if "/Fields" not in form:
        form[pdf_name("/Fields")] = generic.ArrayObject()
    fields = form["/Fields"]
    fields.append(field_ref)
    writer.update_container(fields)
    writer.update_container(form)


def sign_approval(
    pdf: bytes,
    *,
    certificate_id: str,
    marks: list[Mark],
    field_name: str,
    reason: str = "",
    location: str = "",
    signer_name: str = "",
) -> bytes:
    """`pdf` with one more PAdES B-T approval signature by issued certificate `certificate_id`,
    shown by `marks` (none: an invisible signature). Raises SigningError on bad input."""
    _check_certificate(certificate_id)
    writer = _writer(pdf)
    _check_field_name(writer.prev, field_name)
    _add_field(writer, field_name, marks)
    signer = signer_for(certificate_id)
    stamper = timestamper()
    return _run(
        lambda: _sign(
            writer,
            signer,
            stamper,
            field_name=field_name,
            reason=reason,
            location=location,
            signer_name=signer_name,
        )
    )


async def _sign(
    writer: IncrementalPdfFileWriter,
    signer: VaultSigner,
    stamper: _InProcessTimeStamper,
    *,
    field_name: str,
    reason: str,
    location: str,
    signer_name: str,
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    # pyHanko's PdfSigner insists on a single widget per field, so the field is built above
    # and its lower-level embedder fills it: placeholder, byte-range digest, CMS.
    embedder = PdfCMSEmbedder().write_cms(field_name=field_name, writer=writer)
    next(embedder)
    embedder.send(
        SigObjSetup(
            sig_placeholder=SignatureObject(
                timestamp=now,
                subfilter=SigSeedSubFilter.PADES,
                name=signer_name or None,
                location=location or None,
                reason=reason or None,
                # Hex digits: two per byte of DER.
                bytes_reserved=2
                * (
                    len(_cms_parts(signer).certificates.dump())
                    + stamper.token_size_bound
                    + RESERVE_MARGIN
                ),
            )
        )
    )
    prepared, output = embedder.send(SigIOSetup(md_algorithm=MD_ALGORITHM))
    signed_data = await _cms_signature(prepared.document_digest, signer, stamper)
    try:
        embedder.send(signed_data)
    except PyHankoSigningError as exc:  # pragma: no cover -- reserve sized for RSA-3072
        raise SigningError(_("The signature does not fit its reserved space.")) from exc
    result: bytes = output.getvalue()
    return result


@dataclass(frozen=True)
class _CmsParts:
    """What is the same in every CMS signature of one signer, encoded once: asn1crypto
    re-encodes certificates and names each time they are put in a new structure (tens of ms
    per signature inside pyHanko's Signer.async_sign); parsed-from-DER values are copied as is."""

    digest_algorithm: Any
    signature_algorithm: Any
    sid: Any
    certificates: Any
    fixed_attributes: tuple[Any, ...]


def _reparsed(value: Any) -> Any:
    return value.__class__.load(value.dump())


@lru_cache(maxsize=1024)
def _cms_parts(signer: VaultSigner) -> _CmsParts:
    certificate = signer.signing_cert
    assert certificate is not None  # signer_for always sets it
    digest_algorithm = algos.DigestAlgorithm({"algorithm": MD_ALGORITHM})
    signature_algorithm = algos.SignedDigestAlgorithm(cms_signature_algorithm(signer.private_key))
    chain = [certificate, *(c for c in signer.cert_registry if c.sha256 != certificate.sha256)]
    issuer_serial = {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
    attributes = [
        {"type": "content_type", "values": ["data"]},
        {
            # ETSI EN 319 122-1 5.2.2.3 (PAdES baseline): binds the signer's certificate.
            # hashAlgorithm is left out: its DEFAULT is sha256, which DER must omit.
            "type": "signing_certificate_v2",
            "values": [
                {
                    "certs": [
                        {
                            "cert_hash": hashlib.sha256(certificate.dump()).digest(),
                            "issuer_serial": {
                                "issuer": [
                                    asn1_x509.GeneralName({"directory_name": certificate.issuer})
                                ],
                                "serial_number": certificate.serial_number,
                            },
                        }
                    ]
                }
            ],
        },
        {
            # RFC 6211: stops a verifier being tricked into another algorithm.
            "type": "cms_algorithm_protection",
            "values": [
                {
                    "digest_algorithm": digest_algorithm,
                    "signature_algorithm": signature_algorithm,
                }
            ],
        },
    ]
    return _CmsParts(
        digest_algorithm=_reparsed(digest_algorithm),
        signature_algorithm=_reparsed(signature_algorithm),
        sid=_reparsed(cms.SignerIdentifier({"issuer_and_serial_number": issuer_serial})),
        certificates=_reparsed(
            cms.CertificateSet([cms.CertificateChoices(name="certificate", value=c) for c in chain])
        ),
        fixed_attributes=tuple(_reparsed(cms.CMSAttribute(a)) for a in attributes),
    )


async def _cms_signature(
    digest: bytes, signer: VaultSigner, stamper: _InProcessTimeStamper
) -> bytes:
    """A CAdES detached SignedData (PAdES B-T) over the byte-range digest: content-type,
    message-digest, signing-certificate-v2 and algorithm protection signed; the signature
    timestamp token (RFC 3161 over the signature value) unsigned. No signing-time: PAdES
    takes the claimed time from the signature dictionary's /M."""
    parts = _cms_parts(signer)
    signed_attrs = cms.CMSAttributes(
        [*parts.fixed_attributes, {"type": "message_digest", "values": [digest]}]
    )
    # RFC 5652 5.4: the signature covers the attributes as a SET (asn1crypto's default tag).
    signature = cms_sign(signer.private_key, signed_attrs.dump())
    token = await stamper.async_timestamp(hashlib.sha256(signature).digest(), MD_ALGORITHM)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",  # v1: the signer is named by issuer and serial number
            "sid": parts.sid,
            "digest_algorithm": parts.digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": parts.signature_algorithm,
            "signature": signature,
            "unsigned_attrs": [{"type": "signature_time_stamp_token", "values": [token]}],
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [parts.digest_algorithm],
            "encap_content_info": {"content_type": "data"},  # detached: no content
            "certificates": parts.certificates,
            "signer_infos": [signer_info],
        }
    )
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der


# --- validation data -------------------------------------------------------------------------


def _certificates_of(signed_data: cms.SignedData) -> Iterable[asn1_x509.Certificate]:
    """Certificates in a CMS SignedData, including those of its signature timestamp tokens."""
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            yield choice.chosen
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["unsigned_attrs"] or ():
            if attribute["type"].native == "signature_time_stamp_token":
                for token in attribute["values"]:
                    yield from _certificates_of(token["content"])


def _document_certificates(reader: PdfFileReader) -> list[asn1_x509.Certificate]:
    found: dict[bytes, asn1_x509.Certificate] = {}
    for embedded in reader.embedded_signatures:
        for cert in (embedded.signer_cert, *_certificates_of(embedded.signed_data)):
            found.setdefault(cert.sha256, cert)
    try:
        for cert in DocumentSecurityStore.read_dss(reader).load_certs():
            found.setdefault(cert.sha256, cert)
    except ValidationInfoReadingError:  # no DSS yet
        pass
    return list(found.values())


@dataclass(frozen=True)
class _RevocationData:
    root: asn1_x509.Certificate  # the trust anchor
    certificates: list[asn1_x509.Certificate]
    ocsps: list[asn1_ocsp.OCSPResponse]
    crls: list[asn1_crl.CertificateList]


def _revocation_data(document_certs: list[asn1_x509.Certificate]) -> _RevocationData:
    """Our CA's current word on every certificate it issued that the document relies on:
    an OCSP answer per end-entity certificate of the issuing CA, and both CAs' CRLs (the root's
    covers the issuing CA and the TSA)."""
    issuing_ca, root_ca = authority(Role.ISSUING), authority(Role.ROOT)
    issuing = certificate_of(issuing_ca)
    ocsp_responder = certificate_of(authority(Role.OCSP))
    tsa = certificate_of(authority(Role.TSA))
    ours = [to_asn1(c) for c in (certificate_of(root_ca), issuing, ocsp_responder, tsa)]
    issuing_name = to_asn1(issuing).subject
    ocsps = []
    for cert in document_certs:
        if cert.issuer == issuing_name and cert.sha256 != ours[2].sha256:
            request = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(
                    x509.load_der_x509_certificate(cert.dump()), issuing, hashes.SHA256()
                )
                .build()
            )
            der = services.ocsp(request.public_bytes(serialization.Encoding.DER))
            ocsps.append(asn1_ocsp.OCSPResponse.load(der))
    crls = [asn1_crl.CertificateList.load(build_crl(ca)) for ca in (root_ca, issuing_ca)]
    certificates = {c.sha256: c for c in (*ours, *document_certs)}
    return _RevocationData(ours[0], list(certificates.values()), ocsps, crls)


def _validation_context(data: _RevocationData) -> ValidationContext:
    return ValidationContext(
        trust_roots=[data.root],
        other_certs=data.certificates,
        ocsps=data.ocsps,
        crls=data.crls,
        allow_fetching=False,  # everything needed is supplied; never touch the network
        revocation_mode="hard-fail",
    )


# --- archiving (B-LTA) -----------------------------------------------------------------------


def archive(pdf: bytes) -> bytes:
    """`pdf` made PAdES B-LTA: DSS (certificates, OCSP, CRLs for every signature and timestamp
    in it) and a document timestamp, in one incremental revision. May be repeated later to
    extend the archive before the last timestamp's certificate expires."""
    writer = _writer(pdf)
    if not writer.prev.embedded_signatures:
        raise SigningError(_("The document has no signature to archive."), code="not_signed")
    data = _revocation_data(_document_certificates(writer.prev))
    stamper = timestamper()
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=data.certificates, ocsps=data.ocsps, crls=data.crls
    )
    return _run(lambda: _document_timestamp(writer, stamper))


async def _document_timestamp(
    writer: IncrementalPdfFileWriter, stamper: _InProcessTimeStamper
) -> bytes:
    output = await PdfTimeStamper(stamper).async_timestamp_pdf(
        writer, MD_ALGORITHM, bytes_reserved=2 * (stamper.token_size_bound + RESERVE_MARGIN)
    )
    result: bytes = output.getvalue()
    return result


# --- verification ----------------------------------------------------------------------------


def verify(pdf: bytes) -> Report:
    """How every signature and document timestamp in `pdf` validates against our root, with
    the revocation data our CA gives now (no network). Raises SigningError if not a PDF."""
    reader = _reader(pdf)
    try:  # only the reading: an error in our own code below must stay a 500, not a 400
        embedded = reader.embedded_signatures
        certificates = _document_certificates(reader)
    except PDF_READ_ERRORS as exc:  # a broken signature dictionary
        raise SigningError(
            _("A signature in the document cannot be read: %(error)s") % {"error": exc},
            code="signature_unreadable",
        ) from exc
    data = _revocation_data(certificates)
    signatures = _run(lambda: _verify_all(embedded, data))
    return Report(
        intact=bool(signatures) and all(s.intact for s in signatures),
        valid=bool(signatures) and all(s.valid for s in signatures),
        signatures=tuple(signatures),
    )


async def _verify_all(
    embedded: list[EmbeddedPdfSignature], data: _RevocationData
) -> list[SignatureReport]:
    return [await _verify_one(signature, data) for signature in embedded]


async def _verify_one(embedded: EmbeddedPdfSignature, data: _RevocationData) -> SignatureReport:
    # One context per signature: pyHanko caches path results in it.
    context = _validation_context(data)
    kind = _kind(embedded)
    status: Any
    try:
        if kind == "timestamp":
            status = await async_validate_pdf_timestamp(embedded, validation_context=context)
            tsa_time = status.timestamp
            valid = status.valid and status.intact and status.trusted
            valid = valid and status.docmdp_ok is not False
        else:
            status = await async_validate_pdf_signature(
                embedded, signer_validation_context=context, ts_validation_context=context
            )
            validity = status.timestamp_validity
            tsa_time = validity.timestamp if validity else None
            valid = status.bottom_line
    except (SignatureValidationError, PdfError, ValueError, RecursionError) as exc:
        return _unverifiable(embedded, kind, exc)
    details = status.revocation_details
    level = status.modification_level
    return SignatureReport(
        field_name=str(embedded.field_name),
        kind=kind,
        **_names(status.signing_cert),
        signed_at=embedded.self_reported_timestamp,
        timestamp=tsa_time,
        certificate_status=_certificate_status(status),
        revoked_at=details.revocation_date if details else None,
        covers_whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        modification_level=level.name.lower() if level is not None else "unknown",
        valid=bool(valid),
    )


def _certificate_status(status: Any) -> str:
    if status.revocation_details is not None:
        return "revoked"
    # Judged on the certificate alone (a path to our root, no trust problem), so a tampered
    # document still shows whether its signer's certificate is good.
    if status.validation_path is not None and status.trust_problem_indic is None:
        return "good"
    return "untrusted"


def _names(certificate: asn1_x509.Certificate) -> dict[str, str]:
    subject = certificate.subject.native

    def first(key: str) -> str:
        value = subject.get(key, "")
        return str(value[0] if isinstance(value, list) else value)

    return {
        "signer": first("common_name"),
        "organisation": first("organization_name"),
        "organisation_identifier": first("organization_identifier"),
    }


def _unverifiable(embedded: EmbeddedPdfSignature, kind: str, error: Exception) -> SignatureReport:
    """A signature pyHanko could not even evaluate (e.g. a mangled CMS): reported as invalid."""
    logger.warning("signature %s cannot be validated: %s", embedded.field_name, error)
    try:
        names = _names(embedded.signer_cert)
    except (ValueError, KeyError, TypeError):
        names = {"signer": "", "organisation": "", "organisation_identifier": ""}
    return SignatureReport(
        field_name=str(embedded.field_name),
        kind=kind,
        **names,
        signed_at=None,
        timestamp=None,
        certificate_status="untrusted",
        revoked_at=None,
        covers_whole_document=False,
        intact=False,
        trusted=False,
        modification_level="unknown",
        valid=False,
    )


def _kind(embedded: EmbeddedPdfSignature) -> str:
    if embedded.sig_object_type == "/DocTimeStamp":
        return "timestamp"
    return "certification" if embedded.docmdp_level is not None else "approval"
