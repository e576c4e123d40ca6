from tests.helpers import last_code


def test_register_flow(api):
    r = api.post("/auth/codes", {"to": "13800000000", "purpose": "register"})
    assert r.status_code == 202
    code = last_code("+8613800000000")
    r = api.post(
        "/auth/register",
        {"account": "13800000000", "code": code, "name": "测试", "password": "Abcdef12"},
    )
    assert r.status_code == 201, r.content
