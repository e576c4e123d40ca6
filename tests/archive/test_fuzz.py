"""The archive operations fuzzed from their own OpenAPI (like tests/common/test_api_fuzz.py),
but aimed at a real enterprise and a real item, so generated metadata reaches the checks:
no answer is a server error, and every status, content type and body is the documented one."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portsign.api import api
from tests.archive.conftest import filed
from tests.helpers import make_enterprise, make_person

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
schema = schemathesis.openapi.from_dict(api.get_openapi_schema()).include(path_regex="archive")
schema.app = get_wsgi_application()


@pytest.fixture
def target(db) -> tuple[str, dict[str, str]]:
    person = make_person("+8613800000902", "Fuzz Archivist")
    enterprise = make_enterprise(person, "Fuzz Archive Co., Ltd.", 902)
    item = filed(person, enterprise.id)
    return person.token, {"enterprise_id": enterprise.id, "item_id": item["id"]}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_archive_operations(case, target):
    token, ids = target
    for name in case.path_parameters or {}:
        case.path_parameters[name] = ids[name]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
