"""The console's list of bound platforms (已绑定电子账户) and 解除绑定 (SPEC B6)."""

from __future__ import annotations

from django.test import Client

from portsign.integrations.domain.clients import register_client
from portsign.integrations.models import Binding


def _bound(person, enterprise=None) -> Binding:
    platform = register_client(name="Lianyungang EDI", redirect_uris=["https://edi.example.cn/cb"])
    return Binding.objects.create(
        user=person.user,
        enterprise=enterprise,
        application=platform.application,
        scopes=["binding"],
    )


def test_list_and_unbind(alice, acme):
    binding = _bound(alice, acme)
    client = Client()
    client.force_login(alice.user)
    page = client.get("/oauth/bindings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-binding="{binding.id}"' in html
    assert "Lianyungang EDI" in html
    assert acme.name in html
    done = client.post(f"/oauth/bindings/{binding.id}/unbind/")
    assert (done.status_code, done["Location"]) == (302, "/oauth/bindings/")
    assert Binding.objects.get(pk=binding.pk).revoked_at is not None
    assert f'data-binding="{binding.id}"' not in client.get("/oauth/bindings/").content.decode()


def test_another_persons_binding_is_404(alice, bob):
    binding = _bound(alice)
    client = Client()
    client.force_login(bob.user)
    assert client.post(f"/oauth/bindings/{binding.id}/unbind/").status_code == 404
    assert client.get("/oauth/bindings/").content.decode().count("data-binding=") == 0
    assert Binding.objects.get(pk=binding.pk).revoked_at is None


def test_signed_out_goes_to_the_login_page():
    response = Client().get("/oauth/bindings/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/account/login/?next=/oauth/bindings/",
    )
