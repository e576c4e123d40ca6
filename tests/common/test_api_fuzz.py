"""Property-based fuzzing of the open API from its own OpenAPI (issue 11, "keep the campaign in
CI"): schemathesis generates requests for every operation, with a bearer token and without,
sends them through the WSGI application, and checks that no answer is a server error, every
status is one the operation documents, and every body matches its documented schema.

The examples per operation are bounded (PORTSIGN_FUZZ_EXAMPLES, default 5; with the coverage
phase that is about 7,000 requests) and derandomized, so CI and a laptop send the same cases;
a failure prints the request that caused it as a curl command."""

from __future__ import annotations

import os

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
from tests.helpers import make_enterprise, make_person

FUZZ_EXAMPLES = int(os.environ.get("PORTSIGN_FUZZ_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def fuzz_token(db) -> str:
    """A verified person administering a verified enterprise: the generated ids rarely name
    something of theirs, but every check of an authenticated caller is reached."""
    person = make_person("+8613800000901", "Fuzz Tester")
    make_enterprise(person, "Fuzz Port Services Co., Ltd.", 901)
    return person.token


_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure in CI fails locally too
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db
@schema.parametrize()
@_SETTINGS
def test_with_a_token(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@_SETTINGS
def test_without_a_token(case):
    case.call_and_validate(checks=CHECKS)
