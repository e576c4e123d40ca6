def test_fixture_enterprises_are_verified(acme, globex, alice, bob):
    assert acme.status == "verified"
    assert globex.status == "verified"
    me = alice.api.get("/me").json()
    assert [e["id"] for e in me["enterprises"]] == [acme.id]
    assert me["real_name"]["status"] == "verified"
    assert bob.api.get(f"/enterprises/{acme.id}").status_code == 404
