"""Fixtures for the public verification page: signed PDFs (intact, tampered, revoked)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.pki import issuance, pades
from portsign.pki.ca import init_hierarchy
from portsign.pki.pades import Mark
from tests.pki.pdf_samples import make_pdf

ENTERPRISE = "示例港务有限公司"
USCC = "91310000717860235R"


@pytest.fixture
def hierarchy():
    return init_hierarchy()


@pytest.fixture
def enterprise_certificate(hierarchy):
    return issuance.issue_certificate(subject=issuance.enterprise_name(name=ENTERPRISE, uscc=USCC))


def sign(certificate_id: str, pdf: bytes | None = None) -> bytes:
    return pades.sign_approval(
        pdf or make_pdf(1),
        certificate_id=certificate_id,
        marks=[Mark(page=1, x=0.1, y=0.9, width=0.2, png=None, text="2026年12月03日")],
        field_name="Enterprise",
    )


@pytest.fixture
def signed(enterprise_certificate) -> bytes:
    """Signed by the enterprise, then archived: one approval and one document time-stamp."""
    return pades.archive(sign(enterprise_certificate.id))


def tampered(pdf: bytes) -> bytes:
    """One byte of page 1's text changed: inside every signature's byte range."""
    at = pdf.index(b"(Contract page 1)") + 1
    assert at < PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].byte_range[1]
    return pdf[:at] + b"X" + pdf[at + 1 :]


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def english() -> Client:
    """A visitor who chose English (the page ignores Accept-Language; the API follows it)."""
    browser = Client()
    browser.cookies["portsign_language"] = "en"
    return browser
