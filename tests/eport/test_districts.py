"""关区: the table loaded from the data file, its search, and customs acting for districts."""

from __future__ import annotations

import csv

import pytest

from portsign.common.errors import Invalid
from portsign.eport.domain import districts
from portsign.eport.domain.authorities import create_authority
from portsign.eport.models import District
from tests.eport.conftest import ok


def test_the_table_is_the_data_file_loaded_by_the_migration(district_table):
    with districts.DATA_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert District.objects.count() == len(rows) == 1161
    direct = District.objects.filter(direct__isnull=True)
    assert direct.count() == 45  # the 42 direct customs, 0000 海关总署, 5000 广东分署, 9900
    assert {d.code: d.name for d in direct.filter(code__in=["4200", "2300", "5300", "2200"])} == {
        "2200": "上海海关",
        "2300": "南京海关",
        "4200": "青岛海关",
        "5300": "深圳海关",
    }
    office = District.objects.get(code="2301")
    assert (office.name, office.direct_id) == ("连云港关", "2300")
    # Every office hangs under the direct customs of its first two digits.
    offices = District.objects.filter(direct__isnull=False).values_list("code", "direct_id")
    assert len(offices) == 1116
    assert all(direct_id == code[:2] + "00" for code, direct_id in offices)


def test_loading_again_keeps_assignments(district_table):
    national = create_authority(kind="customs", code="100000", name="海关总署", parent=None)
    districts.assign(code="4200", authority=national)
    District.objects.filter(code="4201").update(name="旧名")
    District.objects.filter(code="4202").delete()
    assert districts.load() == 1161
    assert District.objects.get(code="4200").authority_id == national.id
    assert District.objects.get(code="4201").name != "旧名"
    assert District.objects.get(code="4202").direct_id == "4200"


def test_a_bad_table_is_refused(tmp_path):
    path = tmp_path / "districts.csv"
    path.write_text("code,name\n4201,某办事处\n", encoding="utf-8")
    with pytest.raises(ValueError, match="offices without their direct customs"):
        districts.read_table(path)
    path.write_text("code,name\n420,短码\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad or repeated"):
        districts.read_table(path)


def test_search_by_code_prefix_or_name(alice, district_table):
    found = ok(alice.api.get("/eport/districts?q=420"))
    assert [d["code"] for d in found][:3] == ["4200", "4201", "4202"]
    assert found[0] == {
        "code": "4200",
        "name": "青岛海关",
        "direct": "4200",
        "customs_authority": None,
    }
    assert [d["code"] for d in ok(alice.api.get("/eport/districts?q=青岛"))][:1] == ["4200"]
    direct = ok(alice.api.get("/eport/districts?direct=true&q=4"))
    assert {d["code"] for d in direct} == {"4000", "4200", "4300", "4600", "4700", "4900"}
    assert len(ok(alice.api.get("/eport/districts"))) == districts.SEARCH_LIMIT
    assert ok(alice.api.get("/eport/districts?q=不存在的关区")) == []


def test_only_a_customs_authority_acts_for_a_direct_customs(district_table):
    office = create_authority(kind="office", code="100000", name="电子口岸", parent=None)
    with pytest.raises(Invalid) as kind:
        districts.assign(code="4200", authority=office)
    assert kind.value.code == "kind"
    customs = create_authority(kind="customs", code="100000", name="海关总署", parent=None)
    with pytest.raises(Invalid) as office_code:
        districts.assign(code="4201", authority=customs)
    assert office_code.value.code == "district_not_direct"
    districts.assign(code="4200", authority=customs)
    # Its offices follow it.
    assert ok_authority("4201") == "海关总署"


def ok_authority(code: str) -> str | None:
    found = next(d for d in districts.search(code) if d.code == code)
    return (found.direct or found).authority.name if (found.direct or found).authority else None
