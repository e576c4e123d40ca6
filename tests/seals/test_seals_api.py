"""Seals through the open API: generate, upload (with content checks), edit, replace, disable,
delete, quota, personal signatures, tenant isolation."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portsign.common.models import AuditEvent
from portsign.seals.domain import seals as seal_domain
from portsign.seals.models import Seal
from tests.helpers import assert_isolated, error_code, make_enterprise, verify_person
from tests.seals.conftest import add_member, post_file, seal_png


def _image(response) -> Image.Image:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


@pytest.mark.parametrize(
    ("kind", "name", "shape", "size"),
    [
        ("official", "公章", "round", (496, 496)),
        ("contract", "合同专用章", "round", (472, 472)),
        ("hr", "人事专用章", "round", (472, 472)),
        ("finance", "财务专用章", "oval", (532, 354)),
        ("legal_rep", "法定代表人章", "square", (236, 236)),
    ],
)
def test_generate_each_kind(alice, acme, kind, name, shape, size):
    response = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": kind, "source": "generate"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["name"], body["shape"], body["source"], body["status"]) == (
        kind,
        name,
        shape,
        "generated",
        "active",
    )
    assert body["enterprise_id"] == acme.id
    image = _image(alice.api.get(f"/seals/{body['id']}/image.png"))
    assert image.size == size
    assert image.mode == "RGBA"
    assert body["width_mm"] == round(size[0] / 300 * 25.4, 1)
    event = AuditEvent.objects.get(action="seal.created", object_id=body["id"])
    assert event.actor_id == alice.user.id
    assert event.acting_as == acme.id


def test_generated_seal_with_code_and_square_finance(alice, acme):
    with_code = alice.api.post(
        f"/enterprises/{acme.id}/seals", {"type": "contract", "code": "3302030012345"}
    )
    assert with_code.status_code == 201
    assert with_code.json()["code"] == "3302030012345"
    square = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "finance", "shape": "square"})
    assert square.status_code == 201
    assert square.json()["shape"] == "square"
    assert _image(alice.api.get(f"/seals/{square.json()['id']}/image.png")).size == (295, 295)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"type": "stamp"}, 400, "seal_type", "type"),
        ({"type": "signature"}, 400, "seal_type", "type"),
        ({"type": "contract", "code": "12345"}, 400, "seal_code", "code"),
        ({"type": "contract", "code": "330203001234X"}, 400, "seal_code", "code"),
        ({"type": "contract", "shape": "oval"}, 400, "seal_shape", "shape"),
        ({"type": "legal_rep", "shape": "round"}, 400, "seal_shape", "shape"),
        ({"type": "contract", "name": "x" * 41}, 400, "seal_name", "name"),
        ({"type": "contract", "source": "upload"}, 400, "seal_source", "source"),
        ({}, 422, "validation_failed", "type"),
    ],
)
def test_bad_generate_requests(alice, acme, body, status, code, field):
    response = alice.api.post(f"/enterprises/{acme.id}/seals", body)
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert field in response.json()["error"]["fields"]
    assert Seal.objects.count() == 0


def test_malformed_json_is_400(alice, acme):
    response = alice.api.post(f"/enterprises/{acme.id}/seals", raw="{not json")
    assert response.status_code == 400
    assert error_code(response) == "malformed_body"


def test_upload_transparent_png(alice, acme):
    response = post_file(
        alice, f"/enterprises/{acme.id}/seals", seal_png((300, 300)), type="official", width_mm="42"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["source"], body["width_mm"], body["height_mm"]) == ("uploaded", 42.0, 42.0)
    assert _image(alice.api.get(f"/seals/{body['id']}/image.png")).size == (300, 300)


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (seal_png(opaque=True), 400, "seal_opaque"),
        (Image.new("RGBA", (200, 200), (0, 0, 0, 0)), 400, "seal_empty"),
        (seal_png((40, 40)), 400, "seal_too_small"),
        (seal_png((2100, 2000)), 400, "file_too_many_pixels"),
        (b"GIF89a" + b"\0" * 100, 400, "file_type"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 400, "file_corrupt"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 2**20), 413, "file_too_large"),
    ],
)
def test_upload_checks(alice, acme, content, status, code):
    if isinstance(content, Image.Image):
        out = io.BytesIO()
        content.save(out, format="PNG")
        content = out.getvalue()
    response = post_file(alice, f"/enterprises/{acme.id}/seals", content, type="contract")
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert Seal.objects.count() == 0


def test_jpeg_is_refused_with_advice(alice, acme):
    out = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(out, format="JPEG")
    response = post_file(alice, f"/enterprises/{acme.id}/seals", out.getvalue(), type="contract")
    assert response.status_code == 400
    assert error_code(response) == "file_type"
    assert response.json()["error"]["message"] == "Upload a PNG file."


def test_image_bomb_is_refused(alice, acme):
    # A tiny file that claims 30 000 × 30 000 pixels.
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, format="PNG")
    assert len(out.getvalue()) < 2 * 2**20
    response = post_file(alice, f"/enterprises/{acme.id}/seals", out.getvalue(), type="contract")
    assert response.status_code == 400
    assert error_code(response) == "file_too_many_pixels"


def test_quota(alice, acme, settings):
    settings.SEAL_QUOTA = 2
    for _ in range(2):
        assert alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "hr"}).status_code == 201
    refused = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "hr"})
    assert refused.status_code == 409
    assert error_code(refused) == "seal_quota"
    # Deleting one frees its place.
    first = Seal.objects.filter(enterprise=acme).first()
    assert alice.api.delete(f"/seals/{first.id}").status_code == 204
    assert alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "hr"}).status_code == 201


def test_unverified_enterprise_cannot_create(alice):
    draft = make_enterprise(alice, "Draft Shipping Co., Ltd.", 9, verified=False)
    response = alice.api.post(f"/enterprises/{draft.id}/seals", {"type": "contract"})
    assert response.status_code == 409
    assert error_code(response) == "enterprise_not_verified"


def test_members_see_seals_but_only_seal_managers_change_them(alice, bob, acme, contract_seal):
    add_member(acme, bob, "signer")
    listed = bob.api.get(f"/enterprises/{acme.id}/seals")
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [contract_seal["id"]]
    assert bob.api.get(f"/seals/{contract_seal['id']}/image.png").status_code == 200
    for response in (
        bob.api.post(f"/enterprises/{acme.id}/seals", {"type": "hr"}),
        bob.api.patch(f"/seals/{contract_seal['id']}", {"name": "Mine"}),
        bob.api.delete(f"/seals/{contract_seal['id']}"),
    ):
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"


def test_another_enterprise_seal_is_404(alice, bob, acme, globex, contract_seal):
    seal_id = contract_seal["id"]
    assert_isolated(alice, bob, "GET", f"/seals/{seal_id}")
    assert_isolated(alice, bob, "GET", f"/seals/{seal_id}/image.png")
    assert_isolated(alice, bob, "GET", f"/seals/{seal_id}/holders")
    assert_isolated(alice, bob, "GET", f"/enterprises/{acme.id}/seals")
    assert_isolated(alice, bob, "PATCH", f"/seals/{seal_id}", {"name": "x"})
    assert_isolated(alice, bob, "DELETE", f"/seals/{seal_id}", owner_status=204)


def test_rename_disable_enable_and_redraw(alice, acme, contract_seal):
    seal_id = contract_seal["id"]
    renamed = alice.api.patch(
        f"/seals/{seal_id}", {"name": "合同章（业务部）", "status": "disabled"}
    )
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["status"]) == ("合同章（业务部）", "disabled")
    redrawn = alice.api.patch(f"/seals/{seal_id}", {"code": "3302030012345", "status": "active"})
    assert redrawn.status_code == 200
    assert redrawn.json()["code"] == "3302030012345"
    assert redrawn.json()["image_sha256"] != contract_seal["image_sha256"]
    bad = alice.api.patch(f"/seals/{seal_id}", {"status": "lost"})
    assert bad.status_code == 400
    assert error_code(bad) == "seal_status"


def test_replace_image_keeps_id_and_holders(alice, acme, contract_seal):
    seal_id = contract_seal["id"]
    replaced = post_file(alice, f"/seals/{seal_id}/image", seal_png((400, 400)), width_mm="40")
    assert replaced.status_code == 200, replaced.content
    body = replaced.json()
    assert (body["id"], body["source"], body["width_mm"]) == (seal_id, "uploaded", 40.0)
    assert body["image_sha256"] != contract_seal["image_sha256"]
    assert len(alice.api.get(f"/seals/{seal_id}/holders").json()) == 1
    opaque = post_file(alice, f"/seals/{seal_id}/image", seal_png(opaque=True))
    assert opaque.status_code == 400
    assert error_code(opaque) == "seal_opaque"
    assert alice.api.get(f"/seals/{seal_id}").json()["image_sha256"] == body["image_sha256"]
    # An uploaded image cannot be redrawn with a code.
    refused = alice.api.patch(f"/seals/{seal_id}", {"code": "3302030012345"})
    assert refused.status_code == 409
    assert error_code(refused) == "seal_not_generated"


def test_delete_is_refused_while_an_unfinished_contract_uses_the_seal(alice, acme, contract_seal):
    seal_id = contract_seal["id"]

    def pending_contracts(seal: Seal) -> int:
        return 2 if seal.id == seal_id else 0

    seal_domain.register_in_use(pending_contracts)
    try:
        refused = alice.api.delete(f"/seals/{seal_id}")
    finally:
        seal_domain.unregister_in_use(pending_contracts)
    assert refused.status_code == 409
    assert error_code(refused) == "seal_in_use"
    assert alice.api.get(f"/seals/{seal_id}").status_code == 200
    assert alice.api.delete(f"/seals/{seal_id}").status_code == 204
    assert alice.api.get(f"/seals/{seal_id}").status_code == 404
    assert alice.api.get(f"/enterprises/{acme.id}/seals").json() == []
    assert AuditEvent.objects.filter(action="seal.deleted", object_id=seal_id).count() == 1


# -- personal signatures -------------------------------------------------------------------------


def test_generated_and_drawn_signatures(alice, bob):
    verify_person(alice, 11)
    generated = alice.api.post("/me/signatures", {"source": "generate"})
    assert generated.status_code == 201, generated.content
    assert (generated.json()["type"], generated.json()["source"]) == ("signature", "generated")
    assert generated.json()["enterprise_id"] is None
    drawn = post_file(alice, "/me/signatures", seal_png((600, 240)))
    assert drawn.status_code == 201, drawn.content
    assert (drawn.json()["source"], drawn.json()["width_mm"], drawn.json()["height_mm"]) == (
        "drawn",
        40.0,
        16.0,
    )
    mine = alice.api.get("/me/signatures").json()
    assert [s["id"] for s in mine] == [generated.json()["id"], drawn.json()["id"]]
    assert bob.api.get("/me/signatures").json() == []
    assert_isolated(alice, bob, "GET", f"/seals/{drawn.json()['id']}/image.png")
    assert_isolated(alice, bob, "DELETE", f"/seals/{drawn.json()['id']}", owner_status=204)


def test_signature_needs_a_verified_person(alice):
    response = alice.api.post("/me/signatures", {"source": "generate"})
    assert response.status_code == 409
    assert error_code(response) == "person_not_verified"


def test_signature_quota_and_bad_source(alice, settings):
    verify_person(alice, 12)
    settings.SIGNATURE_QUOTA = 1
    assert alice.api.post("/me/signatures", {}).status_code == 201
    again = alice.api.post("/me/signatures", {})
    assert again.status_code == 409
    assert error_code(again) == "signature_quota"
    bad = alice.api.post("/me/signatures", {"source": "photo"})
    assert bad.status_code == 400
    assert error_code(bad) == "signature_source"


def test_signature_cannot_be_shared(alice, bob):
    verify_person(alice, 13)
    seal_id = alice.api.post("/me/signatures", {}).json()["id"]
    response = alice.api.post(f"/seals/{seal_id}/holders", {"member_ids": ["x"]})
    assert response.status_code == 400
    assert error_code(response) == "signature_not_shared"
