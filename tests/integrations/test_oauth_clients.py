"""Business platforms registered by the back office (`portsign oauth_client`, SPEC B6)."""

from __future__ import annotations

import hashlib
import hmac
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from oauth2_provider.models import Application

from portsign.common.models import AuditEvent
from portsign.integrations.domain.returns import return_secret


def run(*args: str) -> str:
    """The command in English whatever language an earlier test left active in this thread
    (its messages are translated: a Chinese one would not match the English patterns)."""
    out = io.StringIO()
    with translation.override("en"):
        call_command("oauth_client", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_secrets_once_and_keeps_a_hash(settings):
    out = run("add", "Tally Co. system", "--redirect-uri", "https://tally.example.cn/cb")
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert sorted(lines) == ["client_id", "client_secret", "redirect_uris", "return_secret"]
    app = Application.objects.get(client_id=lines["client_id"])
    assert app.name == "Tally Co. system"
    assert app.redirect_uris == "https://tally.example.cn/cb"
    assert app.client_type == Application.CLIENT_CONFIDENTIAL
    assert app.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert app.skip_authorization is False
    assert app.client_secret != lines["client_secret"]  # hashed by DOT
    assert len(lines["client_secret"]) >= 32
    # The return secret is derived from the server's secret and the client id.
    expected = hmac.new(
        settings.SECRET_KEY.encode(),
        f"portsign.oauth.return|{app.client_id}".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert lines["return_secret"] == return_secret(app) == expected
    event = AuditEvent.objects.get(action="oauth_client.registered")
    assert (event.object_id, event.data) == (
        app.client_id,
        {"name": "Tally Co. system", "redirect_uris": "https://tally.example.cn/cb"},
    )
    assert lines["client_secret"] not in str(event.data)


def test_several_redirect_uris_list_and_remove():
    out = run(
        "add",
        "EDI",
        "--redirect-uri",
        "https://edi.example.cn/a",
        "--redirect-uri",
        "https://edi.example.cn/b",
    )
    client_id = out.splitlines()[0].split(": ")[1]
    assert run("list") == f"{client_id}\tEDI\thttps://edi.example.cn/a https://edi.example.cn/b\n"
    assert run("remove", client_id) == f"removed {client_id}\n"
    assert run("list") == ""
    with pytest.raises(CommandError):
        run("remove", client_id)


@pytest.mark.parametrize(
    "uri", ["ftp://edi.example.cn/cb", "https:///cb", "https://edi.example.cn/cb#frag"]
)
def test_unusable_redirect_uris_are_refused(uri):
    with pytest.raises(CommandError, match="redirect URI"):
        run("add", "EDI", "--redirect-uri", uri)
    assert Application.objects.count() == 0


def test_add_needs_a_redirect_uri_and_a_name():
    with pytest.raises(CommandError, match="redirect URI"):
        run("add", "EDI")
    with pytest.raises(CommandError, match="NAME"):
        run("add", "--redirect-uri", "https://edi.example.cn/cb")


def test_cleanup_deletes_expired_tokens_and_keeps_live_ones(alice):
    import datetime as dt

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from portsign.integrations.domain.bindings import clear_expired_tokens
    from portsign.integrations.domain.clients import register_client

    client = register_client(name="EDI", redirect_uris=["https://edi.example.cn/cb"])
    now = timezone.now()
    for token, expires in (
        ("old", now - dt.timedelta(hours=2)),
        ("live", now + dt.timedelta(hours=1)),
    ):
        AccessToken.objects.create(
            user=alice.user,
            application=client.application,
            token=token,
            expires=expires,
            scope="binding",
        )
    assert clear_expired_tokens() == 1
    assert list(AccessToken.objects.values_list("token", flat=True)) == ["live"]
