"""The one error format of API.md, and messages in the user's language (zh-hans default, en)."""

from __future__ import annotations

import re

from tests.helpers import PASSWORD, Api, error_code, last_code

CJK = re.compile(r"[\u4e00-\u9fff]")
PHONE = "+8613800000050"


def register_body(**overrides: str) -> dict[str, str]:
    body = {"account": PHONE, "code": "123456", "name": "Dave Test", "password": PASSWORD}
    body.update(overrides)
    return body


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["fields"], dict)
    assert body["error"]["message"]
    return body["error"]


# -- format -------------------------------------------------------------------------------------


def test_malformed_json_is_400(api):
    response = api.request("POST", "/auth/register", raw='{"account": "13800000050", ')
    error = assert_error_shape(response, 400, "malformed_body")
    assert error["fields"] == {}


def test_malformed_json_message_in_english():
    response = Api(language="en").request("POST", "/auth/codes", raw="not json")
    error = assert_error_shape(response, 400, "malformed_body")
    assert error["message"] == "The request body is not valid JSON."


def test_missing_field_is_422_naming_it(api):
    body = register_body()
    del body["password"]
    error = assert_error_shape(api.post("/auth/register", body), 422, "validation_failed")
    assert list(error["fields"]) == ["password"]


def test_all_missing_fields_are_named(api):
    error = assert_error_shape(
        api.post("/auth/register", {"account": PHONE}), 422, "validation_failed"
    )
    assert set(error["fields"]) == {"code", "name", "password"}


def test_wrong_type_is_422(api):
    error = assert_error_shape(
        api.post("/auth/register", register_body(name=["x"])), 422, "validation_failed"
    )
    assert list(error["fields"]) == ["name"]


def test_body_that_is_not_an_object_is_422(api):
    response = api.request("POST", "/auth/codes", raw="[1, 2]")
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"


def test_domain_error_carries_field_messages(api):
    error = assert_error_shape(
        api.post("/auth/codes", {"to": "12800000050", "purpose": "register"}), 400, "phone_invalid"
    )
    assert list(error["fields"]) == ["to"]


def test_unauthorized_has_the_same_shape(api):
    assert_error_shape(api.get("/me"), 401, "unauthorized")


def test_not_found_has_the_same_shape(alice):
    assert_error_shape(alice.api.delete("/auth/tokens/nope"), 404, "not_found")


def test_rate_limit_has_the_same_shape_and_retry_after(api):
    api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    response = api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    assert_error_shape(response, 429, "code_resend_too_soon")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_never_a_500_for_garbage_input(api):
    for raw in ["", "null", '"x"', "{", '{"to": null, "purpose": 1}', "\u00ff\u00fe"]:
        response = api.request("POST", "/auth/codes", raw=raw)
        assert response.status_code in (400, 422), (raw, response.content)


# -- language -----------------------------------------------------------------------------------


def test_messages_are_chinese_by_default(api):
    error = assert_error_shape(
        api.post("/auth/codes", {"to": "1380000005", "purpose": "register"}), 400, "phone_invalid"
    )
    assert CJK.search(error["message"])
    assert all(CJK.search(text) for text in error["fields"].values())


def test_validation_message_is_chinese_by_default(api):
    error = assert_error_shape(
        api.post("/auth/register", {"account": PHONE}), 422, "validation_failed"
    )
    assert CJK.search(error["message"])


def test_malformed_body_message_is_chinese_by_default(api):
    error = assert_error_shape(api.request("POST", "/auth/codes", raw="{"), 400, "malformed_body")
    assert CJK.search(error["message"])


def test_unauthorized_message_is_chinese_by_default(api):
    error = assert_error_shape(api.get("/me"), 401, "unauthorized")
    assert CJK.search(error["message"])


def test_chinese_without_any_accept_language():
    response = Api().client.post(
        "/api/v1/auth/codes",
        data={"to": "1380000005", "purpose": "register"},
        content_type="application/json",
    )
    assert error_code(response) == "phone_invalid"
    assert CJK.search(response.json()["error"]["message"])


def test_messages_are_english_on_request():
    response = Api(language="en").post("/auth/codes", {"to": "1380000005", "purpose": "register"})
    error = assert_error_shape(response, 400, "phone_invalid")
    assert error["message"] == "A mainland mobile number has 11 digits."
    assert error["fields"] == {"to": "A mainland mobile number has 11 digits."}


def test_english_validation_message():
    error = assert_error_shape(
        Api(language="en").post("/auth/register", {"account": PHONE}), 422, "validation_failed"
    )
    assert error["message"] == "Some fields are missing or invalid."


def test_english_code_wrong_message_names_remaining_attempts():
    api = Api(language="en")
    api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    wrong = f"{(int(last_code(PHONE)) + 1) % 10**6:06d}"
    error = assert_error_shape(
        api.post("/auth/register", register_body(code=wrong)), 400, "code_wrong"
    )
    assert error["message"] == "The code is wrong. 4 attempts left."


def test_chinese_rate_limit_message_names_the_wait(api):
    api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    response = api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    message = response.json()["error"]["message"]
    assert CJK.search(message)
    assert re.findall(r"\d+", message) == [response["Retry-After"]]


def test_saved_user_language_wins_over_accept_language(alice):
    response = alice.api.patch("/me", {"language": "en"})
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "en"
    wrong = alice.api.post(
        "/me/password", {"current_password": "Wrong#Pass1", "new_password": "Quayside#77"}
    )
    assert error_code(wrong) == "password_wrong"
    assert wrong.json()["error"]["message"] == "The current password is wrong."


def test_saved_chinese_wins_over_english_browser(alice):
    alice.api.patch("/me", {"language": "zh-hans"})
    english_browser = Api(alice.token, language="en")
    wrong = english_browser.post(
        "/me/password", {"current_password": "Wrong#Pass1", "new_password": "Quayside#77"}
    )
    assert error_code(wrong) == "password_wrong"
    assert CJK.search(wrong.json()["error"]["message"])


def test_unsupported_language_is_refused(alice):
    response = alice.api.patch("/me", {"language": "fr"})
    assert_error_shape(response, 400, "language_invalid")


def test_sms_text_is_chinese_by_default(api):
    api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    response = api.get("/sandbox/outbox?to=13800000050")
    text = response.json()[0]["text"]
    assert CJK.search(text)
    assert last_code(PHONE) in text


def test_sms_text_is_english_on_request():
    api = Api(language="en")
    api.post("/auth/codes", {"to": PHONE, "purpose": "register"})
    text = api.get("/sandbox/outbox?to=13800000050").json()[0]["text"]
    assert text == (
        f"[PortSign] Your code for Registration is {last_code(PHONE)}, valid for 5 "
        "minutes. Never tell anyone this code."
    )


def test_unknown_api_path_is_a_json_404(api):
    assert_error_shape(api.get("/no-such-endpoint"), 404, "not_found")


def test_wrong_method_is_a_json_error(api):
    response = api.get("/auth/register")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_unauthenticated_write_is_401_not_a_csrf_failure(api):
    # A platform integration sends no cookie at all: it is unauthenticated, not a CSRF attack.
    assert_error_shape(api.post("/auth/tokens", {"name": "edi"}), 401, "unauthorized")
