"""Issue 11 item 8: text no database can store, and numbers and dates past their range.

A lone UTF-16 surrogate ("\\ud800" in JSON) decodes to a Python string that neither SQLite nor
PostgreSQL can store, and PostgreSQL refuses NUL; both used to reach the database and answer 500.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import error_code

MARK = "@mark@"


def _raw(body: dict) -> str:
    """*body* as JSON with MARK spelled as a string holding a lone surrogate."""
    return json.dumps(body).replace(f'"{MARK}"', '"x\\ud800y"')


def _bodies(acme) -> list[tuple[str, str]]:
    enterprise = acme.id
    return [
        ("/enterprises", _raw({"name": MARK, "credit_code": "91310000MA1FL0000X"})),
        (f"/enterprises/{enterprise}/seals", _raw({"type": "contract", "name": MARK})),
        (
            f"/enterprises/{enterprise}/webhooks",
            _raw({"url": "https://example.cn/hook", "description": MARK}),
        ),
        (f"/enterprises/{enterprise}/roles", _raw({"name": MARK, "permissions": []})),
        ("/me/signatures", _raw({"name": MARK})),
        ("/contracts", _raw({"template_id": "t", "title": MARK})),
        ("/auth/register", _raw({"account": "a@example.cn", "name": MARK})),
    ]


@pytest.mark.parametrize("index", range(7))
def test_a_lone_surrogate_is_refused_before_any_write(alice, acme, index) -> None:
    path, raw = _bodies(acme)[index]
    response = alice.api.post(path, raw=raw)
    assert response.status_code == 400, response.content
    assert error_code(response) == "invalid_text"
    assert "\\ud800" not in response.content.decode()


def test_a_surrogate_in_a_key_or_a_nested_list_is_refused_too(alice, acme) -> None:
    response = alice.api.post("/me/signatures", raw='{"a": [{"\\udfff": 1}]}')
    assert response.status_code == 400
    assert error_code(response) == "invalid_text"


def test_a_nul_character_in_json_is_refused(alice) -> None:
    response = alice.api.post("/me/signatures", raw='{"name": "a\\u0000b"}')
    assert response.status_code == 400
    assert error_code(response) == "invalid_text"


def test_a_nul_in_the_query_is_refused(alice) -> None:
    response = alice.api.get("/contracts?party=a%00b")
    assert response.status_code == 400
    assert error_code(response) == "invalid_text"


def test_a_valid_surrogate_pair_is_ordinary_text(alice) -> None:
    """An emoji escaped as a pair is well-formed; it meets the normal rules, not invalid_text."""
    response = alice.api.post("/me/signatures", raw='{"name": "\\ud83d\\ude00"}')
    assert error_code(response) != "invalid_text"


@pytest.mark.parametrize("page", ["100000000000000000000", "-1", "0", "abc", "1000001"])
@pytest.mark.parametrize("kind", ["contracts", "seal_uses", "deliveries"])
def test_pages_out_of_range_are_a_clear_400(alice, acme, kind, page) -> None:
    enterprise = acme.id
    if kind == "contracts":
        path = f"/contracts?box=sent&page={page}"
    elif kind == "seal_uses":
        seal = alice.api.post(
            f"/enterprises/{enterprise}/seals", {"type": "contract", "name": "合同专用章"}
        )
        assert seal.status_code == 201, seal.content
        path = f"/seals/{seal.json()['id']}/uses?page={page}"
    else:
        hook = alice.api.post(
            f"/enterprises/{enterprise}/webhooks", {"url": "https://example.cn/hook"}
        )
        assert hook.status_code == 201, hook.content
        path = f"/webhooks/{hook.json()['id']}/deliveries?page={page}"
    response = alice.api.get(path)
    assert response.status_code in (400, 422), response.content
    assert error_code(response) in ("page", "validation_failed")
    if page.lstrip("-").isdigit():
        assert error_code(response) == "page"


def test_the_last_allowed_page_is_merely_empty(alice) -> None:
    response = alice.api.get("/contracts?box=sent&page=1000000")
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    "deadline", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+08:00", "0001-01-01T00:00:00"]
)
def test_a_deadline_past_the_calendar_is_a_clear_400(alice, acme, deadline) -> None:
    from tests.contracts.conftest import create_draft

    contract = create_draft(alice)
    response = alice.api.post(f"/contracts/{contract['id']}/deadline", {"deadline": deadline})
    assert response.status_code == 400, response.content
    assert error_code(response) == "deadline_range"


def test_a_filter_date_past_the_calendar_is_a_clear_400(alice) -> None:
    response = alice.api.get("/contracts?box=sent&sent_from=9999-12-31T23:00:00-05:00")
    assert response.status_code == 400, response.content
    assert error_code(response) == "date_range"
