def test_fixture_enterprises_are_verified(acme, globex, alice, bob):
    assert acme.status == "verified"
    assert globex.status == "verified"
    me = alice.api.get("/me").json()
    assert [e["id"] for e in me["enterprises"]] == [acme.id]
    assert me["real_name"]["status"] == "verified"
    assert bob.api.get(f"/enterprises/{acme.id}").status_code == 404


def test_acting_as_on_me(acme, globex, alice, bob):
    personal = alice.api.get("/me").json()["acting_as"]
    assert personal == {
        "kind": "personal",
        "enterprise_id": None,
        "enterprise_name": None,
        "role": None,
        "permissions": [],
    }
    acting = alice.api.get(f"/me?acting_as={acme.id}").json()["acting_as"]
    assert (acting["kind"], acting["enterprise_id"], acting["role"]) == (
        "enterprise",
        acme.id,
        "admin",
    )
    assert "manage_members" in acting["permissions"]
    assert alice.api.get(f"/me?acting_as={globex.id}").status_code == 404
    assert bob.api.get(f"/me?acting_as={acme.id}").status_code == 404
