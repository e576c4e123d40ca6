"""Test helpers: a JSON API client, people with tokens, sandbox outbox readers, isolation."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.test import Client

from portsign.accounts.domain.tokens import issue_token
from portsign.accounts.models import User
from portsign.common.models import SandboxMessage

PASSWORD = "Portsign#2026"


class Api:
    """JSON client for /api/v1 with an optional bearer token."""

    def __init__(self, token: str | None = None, language: str = "zh-hans") -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.token = token
        self.language = language

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": self.language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: str | None = None,
    ):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.client.generic(
            method.upper(),
            "/api/v1" + path,
            data=data or "",
            content_type="application/json",
            headers=self._headers(headers),
        )

    def get(self, path: str, **kw: Any):
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any):
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any):
        return self.request("DELETE", path, **kw)


@dataclass
class Person:
    user: User
    token: str
    api: Api
    account: str


def make_person(account: str, name: str) -> Person:
    address = {"email": account} if "@" in account else {"phone": account}
    user = User.objects.create_user(password=PASSWORD, name=name, **address)
    _token, raw = issue_token(user=user, name="test")
    return Person(user=user, token=raw, api=Api(raw), account=account)


def outbox(to: str) -> list[SandboxMessage]:
    return list(SandboxMessage.objects.filter(to=to).order_by("id"))


def last_code(to: str) -> str:
    """The one-time code most recently delivered to *to* (E.164 phone or e-mail)."""
    messages = outbox(to)
    assert messages, f"nothing was delivered to {to}"
    return messages[-1].data["code"]


def error_code(response) -> str:
    return response.json()["error"]["code"]


def assert_isolated(
    owner: Person,
    intruder: Person,
    method: str,
    path: str,
    body: Any = None,
    *,
    owner_status: int = 200,
) -> None:
    """The owner reaches *path*; anyone else gets 404, exactly as for a missing object."""
    theirs = intruder.api.request(method, path, body)
    assert theirs.status_code == 404, theirs.content
    assert error_code(theirs) == "not_found"
    mine = owner.api.request(method, path, body)
    assert mine.status_code == owner_status, mine.content


# -- identities ---------------------------------------------------------------------------------


def synthetic_id_number(sequence: int, birth: str = "19900307", region: str = "110101") -> str:
    """A made-up resident ID number with a correct check character (never a real person's)."""
    from portsign.common.cn_ids import id_number_check_char

    body = f"{region}{birth}{sequence % 1000:03d}"
    return body + id_number_check_char(body)


def synthetic_uscc(sequence: int, region: str = "310000") -> str:
    """A made-up unified social credit code passing both the USCC and org-code checks."""
    from portsign.common.cn_ids import org_code_check_char, uscc_check_char

    org_body = f"MA{sequence:06d}"
    body = f"91{region}{org_body}{org_code_check_char(org_body)}"
    return body + uscc_check_char(body)


def verify_person(person: Person, sequence: int = 1) -> Person:
    """Real-name verify *person* through the sandbox provider (carrier 3 elements)."""
    from portsign.accounts.domain.realname import verify_person as verify

    if not person.user.phone:  # checks use the account's own number
        User.objects.filter(pk=person.user.pk).update(phone=f"+861380000{sequence % 10000:04d}")
        person.user.refresh_from_db()
    attempt = verify(
        user=person.user,
        method="carrier3",
        name=person.user.name,
        id_number=synthetic_id_number(sequence),
    )
    assert attempt.status == "verified", attempt.provider_code
    person.user.refresh_from_db()
    return person


def give_materials(owner: Person, enterprise, sequence: int):
    """Upload blank pictures as the business licence and both sides of the legal
    representative's ID card: every verification method needs them first."""
    from portsign.enterprises.demo import submit_sample_materials

    return submit_sample_materials(
        actor=owner.user,
        enterprise=enterprise,
        legal_rep_id_number=synthetic_id_number(sequence, birth="19750505"),
    )


def make_enterprise(owner: Person, name: str, sequence: int, *, verified: bool = True):
    """An enterprise created by *owner* (real-name verified first), optionally verified by
    micro-deposit with the amount read from the sandbox bank (after uploading materials)."""
    from portsign.enterprises.domain import deposits, enterprises

    if not owner.user.is_real_name_verified:
        verify_person(owner, sequence)
    enterprise = enterprises.create_enterprise(
        actor=owner.user, name=name, uscc=synthetic_uscc(sequence), legal_rep_name="Legal Rep"
    )
    if verified:
        give_materials(owner, enterprise, sequence)
        account = f"62220000{sequence:08d}1"
        deposits.start_deposit(
            actor=owner.user,
            enterprise_id=enterprise.id,
            method="micro_deposit",
            bank_name="Test Bank Branch",
            bank_account=account,
        )
        amount = outbox(account)[-1].data["amount"]
        deposits.confirm_amount(actor=owner.user, enterprise_id=enterprise.id, amount=amount)
        enterprise.refresh_from_db()
    return enterprise


class FakeConverter:
    """A LibreOffice on PATH that "converts" any file into *pdf*: it waits for `release()`
    (so a test can watch a conversion in progress), then writes the PDF, or fails if told."""

    def __init__(self, folder: Path, pdf: bytes, *, gated: bool, fails: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.pdf").write_bytes(pdf)
        self.gate = folder / "release"
        self.started = folder / "started"
        if not gated:
            self.gate.touch()
        script = folder / "soffice"
        # Arguments: ... --outdir FOLDER SOURCE (common/word.py); the output is FOLDER/<stem>.pdf.
        script.write_text(
            "#!/bin/sh\n"
            'while [ "$1" != "--outdir" ]; do shift; done\n'
            f'touch "{self.started}"\n'
            f'for _ in $(seq 400); do [ -e "{self.gate}" ] && break; sleep 0.05; done\n'
            + ("exit 1\n" if fails else "")
            + f'cp "{folder}/result.pdf" "$2/contract.pdf"\n'
        )
        script.chmod(0o755)
        self.path = f"{folder}{os.pathsep}{os.environ['PATH']}"

    def release(self) -> None:
        self.gate.touch()

    def wait_started(self, timeout: float = 20) -> None:
        """Until the converter runs: its worker then waits on it and leaves the database alone
        (tests on in-memory SQLite must not read while another thread writes)."""
        deadline = time.monotonic() + timeout
        while not self.started.exists():
            assert time.monotonic() < deadline, "the converter never started"
            time.sleep(0.02)


def word_bytes() -> bytes:
    """The smallest .docx the upload checks accept (a zip declaring one page)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("docProps/app.xml", b"<Properties><Pages>1</Pages></Properties>")
    return buffer.getvalue()


def red_pixels(png: bytes) -> int:
    """Seal-red pixels of a rendered page (our seals are drawn in pure red on white)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as picture:
        data = picture.convert("RGB").tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if data[i] > 180 and data[i + 1] < 90 and data[i + 2] < 90
    )
