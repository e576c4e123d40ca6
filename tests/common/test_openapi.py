"""The published OpenAPI says what the API does (issue 11 items 11 and 13): every schema class
has its own component, and every operation documents the error answers it can give."""

from __future__ import annotations

from collections import Counter

import pytest
from ninja import Schema

from portsign.api import API_ERRORS, api


def _portsign_schemas() -> list[type[Schema]]:
    found: list[type[Schema]] = []
    todo = list(Schema.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        # ninja builds its own classes for path/query parameters; ours are named by hand.
        if cls.__module__.startswith("portsign.") and not cls.__name__.endswith("Params"):
            found.append(cls)
    return found


@pytest.fixture(scope="module")
def schema() -> dict:
    return api.get_openapi_schema()


def test_no_two_schema_classes_share_a_name(schema):
    # OpenAPI names a component by its class name: two same-named classes publish one shape
    # for both, and requests documented by the wrong one are refused.
    names = Counter(cls.__name__ for cls in _portsign_schemas())
    assert [name for name, count in names.items() if count > 1] == []
    assert len(names) >= 100


def test_every_component_has_the_fields_of_its_class(schema):
    components = schema["components"]["schemas"]
    compared = 0
    for cls in _portsign_schemas():
        component = components.get(cls.__name__)
        if component is None:
            continue  # a schema no operation uses (e.g. a nested shape only the console reads)
        own = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        assert set(component.get("properties", {})) == set(own.get("properties", {})), cls
        assert set(component.get("required", [])) == set(own.get("required", [])), cls
        compared += 1
    assert compared >= 100


def test_shared_shapes_are_one_component(schema):
    components = schema["components"]["schemas"]
    assert components["CountOut"]["properties"] == {"count": {"title": "Count", "type": "integer"}}
    assert set(components["TemplateRoleIn"]["properties"]) == {"name", "order", "is_sender"}
    assert set(components["BusinessFieldIn"]["properties"]) == {"key", "label", "kind", "required"}
    assert "page" in components["FieldIn"]["properties"]  # the template field, with its box
    assert set(components["ApprovalDecisionIn"]["properties"]) == {"comment"}


def test_every_operation_documents_the_error_answers(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) == 252
    for path, method, operation in operations:
        for status in API_ERRORS:
            response = operation["responses"].get(status)
            assert response is not None, (method, path, status)
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["code", "message", "fields"]


def test_an_error_answer_matches_the_documented_shape(client):
    from pydantic import TypeAdapter

    from portsign.common.schemas import ErrorOut

    response = client.get("/api/v1/contracts/nope")
    assert response.status_code == 401
    body = TypeAdapter(ErrorOut).validate_python(response.json())
    assert body.error.code == "unauthorized"
    assert body.error.fields == {}
