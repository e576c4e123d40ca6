"""Platform binding end to end (SPEC B6): a business platform written here with
requests-oauthlib's OAuth2Session (PKCE S256) against the live server, and the person's
browser signing in, reading the consent page and confirming with a code."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone, translation
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError
from requests_oauthlib import OAuth2Session

from portsign.common.models import AuditEvent
from portsign.integrations.domain.clients import RegisteredClient, register_client
from portsign.integrations.models import Binding
from tests.contracts.conftest import create_draft
from tests.helpers import Person, last_code, make_enterprise
from tests.integrations.oauth_helpers import Browser, page_facts

CALLBACK = "https://edi.example.cn/portsign/callback"


@pytest.fixture(autouse=True)
def _insecure_transport(monkeypatch) -> None:
    # The live server speaks plain HTTP; oauthlib refuses that unless told it is a test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def platform() -> RegisteredClient:
    return register_client(name="Lianyungang EDI", redirect_uris=[CALLBACK])


@pytest.fixture
def initech(alice):
    """alice's second enterprise: the binding to acme must not reach it."""
    return make_enterprise(alice, "Initech Shipping Agency Co., Ltd.", 3)


@dataclass
class Flow:
    oauth: OAuth2Session
    browser: Browser
    consent_url: str
    hidden: dict[str, str]
    texts: dict[str, str]


def start(live_server, platform: RegisteredClient, person: Person) -> Flow:
    """The platform sends the person to /oauth/authorize/; they sign in and see the consent."""
    base = live_server.url
    oauth = OAuth2Session(
        platform.application.client_id, redirect_uri=CALLBACK, scope=["binding"], pkce="S256"
    )
    url, _state = oauth.authorization_url(base + "/oauth/authorize/")
    browser = Browser(base, requests.Session())
    first = browser.get(url)
    assert first.status_code == 302
    login = first.headers["Location"]
    assert login.startswith("/account/login/?next=/oauth/authorize/")
    signed_in = browser.sign_in(base + login, person.account)
    assert signed_in.status_code == 302
    consent_url = base + signed_in.headers["Location"]
    assert consent_url == url
    page = browser.get(consent_url)
    assert page.status_code == 200, page.text
    hidden, texts = page_facts(page.text)
    return Flow(oauth, browser, consent_url, hidden, texts)


def zh(message: str) -> str:
    """*message* as the Chinese console shows it (the msgid until the catalogue has it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def masked(account: str) -> str:
    if "@" in account:
        return account[0] + "***@" + account.split("@")[1]
    return account[:6] + "****" + account[-4:]


def confirm(flow: Flow, identity: str, phone: str) -> str:
    """Send the code, confirm with it: the redirect back to the platform, with the code."""
    fields = {**flow.hidden, "identity": identity}
    sent = flow.browser.post(flow.consent_url, {**fields, "action": "send"})
    assert sent.status_code == 200, sent.text
    sent_to = zh("A code was sent to %(sent_to)s.") % {"sent_to": masked(phone)}
    assert page_facts(sent.text)[1]["code-sent"] == sent_to
    done = flow.browser.post(
        flow.consent_url, {**fields, "action": "confirm", "code": last_code(phone)}
    )
    assert done.status_code == 302, done.text
    return done.headers["Location"]


def bind(live_server, platform, person, identity: str) -> tuple[Flow, dict]:
    flow = start(live_server, platform, person)
    location = confirm(flow, identity, person.account)
    token = flow.oauth.fetch_token(
        live_server.url + "/oauth/token/",
        authorization_response=location,
        client_secret=platform.client_secret,
        include_client_id=True,
    )
    return flow, token


def test_bind_call_as_the_enterprise_and_unbind(live_server, platform, alice, acme, initech):
    flow = start(live_server, platform, alice)
    # Exactly what is shared: the masked account, real-name status, the enterprise's basics.
    assert {k: v for k, v in flow.texts.items() if k.startswith("fact-")} == {
        "fact-account": "+86138****0001 (Alice Test)",
        "fact-real-name": "已认证",
        "fact-enterprise": "Acme Port Logistics Co., Ltd.",
        "fact-uscc": acme.uscc,
        "fact-legal-rep": "Legal Rep",
        "fact-enterprise-status": "已认证",
    }
    location = confirm(flow, acme.id, alice.account)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(CALLBACK + "?")
    assert sorted(query) == ["code", "iss", "state"]
    assert query["iss"] == [live_server.url]
    assert query["state"] == [flow.oauth._state]
    token = flow.oauth.fetch_token(
        live_server.url + "/oauth/token/",
        authorization_response=location,
        client_secret=platform.client_secret,
        include_client_id=True,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == ["binding"]
    assert token["refresh_token"]

    api = live_server.url + "/api/v1"
    binding = Binding.objects.get(user=alice.user)
    # The platform reads exactly what the consent page listed.
    shared = flow.oauth.get(f"{api}/platform/binding")
    assert shared.status_code == 200, shared.text
    assert shared.json() == {
        "binding_id": binding.id,
        "account": "+86138****0001",
        "name": "Alice Test",
        "real_name_verified": True,
        "enterprise": {
            "id": acme.id,
            "name": "Acme Port Logistics Co., Ltd.",
            "uscc": acme.uscc,
            "legal_rep_name": "Legal Rep",
            "status": "verified",
        },
        "scopes": ["binding"],
        "created_at": shared.json()["created_at"],
    }
    ours = create_draft(alice, acting_as=acme.id)
    theirs = create_draft(alice, acting_as=initech.id)
    box = flow.oauth.get(f"{api}/contracts", params={"acting_as": acme.id, "box": "drafts"})
    assert box.status_code == 200, box.text
    assert [c["id"] for c in box.json()["items"]] == [ours["id"]]
    # /me would name all of alice's enterprises and her full number: not the platform's.
    for path in ("/me", f"/enterprises/{acme.id}", f"/enterprises/{initech.id}"):
        refused = flow.oauth.get(api + path)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "binding_scope")
    # alice's other enterprise is out of the binding's reach: 403 acting as it, 404 its objects.
    acting = flow.oauth.get(f"{api}/contracts", params={"acting_as": initech.id})
    assert (acting.status_code, acting.json()["error"]["code"]) == (403, "binding_identity")
    personal = flow.oauth.get(f"{api}/contracts", params={"acting_as": "personal"})
    assert (personal.status_code, personal.json()["error"]["code"]) == (403, "binding_identity")
    assert flow.oauth.get(f"{api}/contracts/{ours['id']}").status_code == 200
    hidden = flow.oauth.get(f"{api}/contracts/{theirs['id']}")
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    assert alice.api.get(f"/contracts/{theirs['id']}").status_code == 200
    # The person's own routes and signing are never the platform's.
    for method, path in [
        ("POST", f"/contracts/{ours['id']}/sign/codes"),
        ("GET", f"/contracts/{ours['id']}/sign/intents/x"),
        ("POST", f"/contracts/{ours['id']}/send"),
        ("POST", "/auth/tokens"),
        ("POST", "/signing-batches"),
    ]:
        refused = flow.oauth.request(method, api + path, json={"acting_as": acme.id})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "binding_scope")
    mine = flow.oauth.get(f"{api}/me/bindings")
    assert (mine.status_code, mine.json()["error"]["code"]) == (403, "binding_scope")

    listed = alice.api.get("/me/bindings")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "id": binding.id,
            "application": {
                "client_id": platform.application.client_id,
                "name": "Lianyungang EDI",
            },
            "enterprise": {"id": acme.id, "name": acme.name, "uscc": acme.uscc},
            "scopes": ["binding"],
            "created_at": listed.json()[0]["created_at"],
            "last_used_at": listed.json()[0]["last_used_at"],
        }
    ]
    assert listed.json()[0]["last_used_at"] is not None

    assert alice.api.delete(f"/me/bindings/{binding.id}").status_code == 204
    after = flow.oauth.get(f"{api}/platform/binding")
    assert after.status_code == 401
    with pytest.raises(InvalidGrantError):
        flow.oauth.refresh_token(
            live_server.url + "/oauth/token/",
            client_id=platform.application.client_id,
            client_secret=platform.client_secret,
        )
    assert alice.api.get("/me/bindings").json() == []
    assert alice.api.delete(f"/me/bindings/{binding.id}").status_code == 404
    events = AuditEvent.objects.filter(object_id=binding.id).order_by("seq")
    assert [(e.action, e.actor_id) for e in events if e.action != "binding.used"] == [
        ("binding.created", alice.user.id),
        ("binding.revoked", alice.user.id),
    ]
    used = [e for e in events if e.action == "binding.used"]
    assert used[0].acting_as == acme.id
    assert used[0].data == {"method": "GET", "path": "/api/v1/platform/binding"}
    # Refused calls are on record too, with no query string or token.
    assert {"method": "GET", "path": "/api/v1/me"} in [e.data for e in used]
    assert len(used) == 15  # every call while bound; none after unbinding


def test_the_consent_is_asked_every_time(live_server, platform, alice, acme):
    flow, _token = bind(live_server, platform, alice, acme.id)
    again = OAuth2Session(
        platform.application.client_id, redirect_uri=CALLBACK, scope=["binding"], pkce="S256"
    )
    url, _state = again.authorization_url(
        live_server.url + "/oauth/authorize/", approval_prompt="auto"
    )
    page = flow.browser.get(url)
    assert page.status_code == 200
    assert page_facts(page.text)[1]["fact-enterprise"] == acme.name


def test_a_platform_over_its_rate_gets_429(live_server, platform, alice, acme, settings):
    flow, _token = bind(live_server, platform, alice, acme.id)
    settings.API_KEY_RATE_PER_MINUTE = 2
    api = live_server.url + "/api/v1"
    statuses = [flow.oauth.get(f"{api}/platform/binding").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_someone_else_cannot_unbind(live_server, platform, alice, bob, acme):
    _flow, _token = bind(live_server, platform, alice, acme.id)
    binding = Binding.objects.get(user=alice.user)
    response = bob.api.delete(f"/me/bindings/{binding.id}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert bob.api.get("/me/bindings").json() == []
    assert Binding.objects.get(pk=binding.pk).revoked_at is None


def test_binding_again_replaces_the_first(live_server, platform, alice, acme, initech, settings):
    settings.CODE_RESEND_SECONDS = 0  # two sign-ins in a row
    first, _token = bind(live_server, platform, alice, acme.id)
    second, _token2 = bind(live_server, platform, alice, initech.id)
    api = live_server.url + "/api/v1"
    assert first.oauth.get(f"{api}/platform/binding").status_code == 401
    now = second.oauth.get(f"{api}/platform/binding")
    assert now.status_code == 200
    assert now.json()["enterprise"]["id"] == initech.id
    assert [b["enterprise"]["id"] for b in alice.api.get("/me/bindings").json()] == [initech.id]


def test_a_personal_binding_acts_as_the_person(live_server, platform, charlie):
    flow = start(live_server, platform, charlie)
    assert {k: v for k, v in flow.texts.items() if k.startswith("fact-")} == {
        "fact-account": "c***@example.cn (Charlie Test)",
        "fact-real-name": "未认证",
        "fact-enterprise": zh("None: the platform acts for you personally"),
    }
    location = confirm(flow, "personal", charlie.account)
    flow.oauth.fetch_token(
        live_server.url + "/oauth/token/",
        authorization_response=location,
        client_secret=platform.client_secret,
        include_client_id=True,
    )
    api = live_server.url + "/api/v1"
    assert flow.oauth.get(f"{api}/contracts", params={"acting_as": "personal"}).status_code == 200
    assert flow.oauth.get(f"{api}/contracts").status_code == 200


def test_wrong_pkce_verifier_and_missing_pkce_are_refused(live_server, platform, alice, acme):
    flow = start(live_server, platform, alice)
    location = confirm(flow, acme.id, alice.account)
    code = parse_qs(urlsplit(location).query)["code"][0]
    token_url = live_server.url + "/oauth/token/"
    wrong = requests.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": "x" * 64,
        },
        auth=(platform.application.client_id, platform.client_secret),
        timeout=30,
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    without = requests.post(
        token_url,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(platform.application.client_id, platform.client_secret),
        timeout=30,
    )
    assert (without.status_code, without.json()) == (
        400,
        {"error": "invalid_request", "error_description": "Code verifier required."},
    )

    # An authorization request without a code challenge never reaches the consent page.
    plain = OAuth2Session(platform.application.client_id, redirect_uri=CALLBACK, scope=["binding"])
    url, _state = plain.authorization_url(live_server.url + "/oauth/authorize/")
    refused = flow.browser.get(url)
    assert refused.status_code == 302
    error = parse_qs(urlsplit(refused.headers["Location"]).query)
    assert refused.headers["Location"].startswith(CALLBACK + "?")
    assert error["error"] == ["invalid_request"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/portsign/callback",
        CALLBACK + "/more",
        CALLBACK.replace("https:", "http:"),
        "https://edi.example.cn:8443/portsign/callback",
    ],
)
def test_unregistered_redirect_uri_is_refused(live_server, platform, alice, redirect_uri):
    flow = start(live_server, platform, alice)
    rogue = OAuth2Session(
        platform.application.client_id,
        redirect_uri=redirect_uri,
        scope=["binding"],
        pkce="S256",
    )
    url, _state = rogue.authorization_url(live_server.url + "/oauth/authorize/")
    refused = flow.browser.get(url)
    # Never redirected to an unregistered address: an error page on PortSign itself.
    assert refused.status_code == 400
    assert "Location" not in refused.headers
    assert page_facts(refused.text)[1]["oauth-error"] == (
        "invalid_request: Mismatching redirect URI."
    )


def test_a_wrong_code_does_not_bind(live_server, platform, alice, acme):
    flow = start(live_server, platform, alice)
    fields = {**flow.hidden, "identity": acme.id}
    assert flow.browser.post(flow.consent_url, {**fields, "action": "send"}).status_code == 200
    wrong = flow.browser.post(flow.consent_url, {**fields, "action": "confirm", "code": "000000"})
    assert wrong.status_code == 400
    assert "Location" not in wrong.headers
    assert Binding.objects.count() == 0


def test_deny_returns_access_denied(live_server, platform, alice, acme):
    flow = start(live_server, platform, alice)
    denied = flow.browser.post(flow.consent_url, {**flow.hidden, "action": "deny"})
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]
    assert Binding.objects.count() == 0


def test_return_to_the_platform_after_signing(
    live_server, platform, alice, bob, acme, initech, settings
):
    settings.CODE_RESEND_SECONDS = 0  # bob signs in right after alice
    flow, _token = bind(live_server, platform, alice, acme.id)
    api = live_server.url + "/api/v1"
    contract = create_draft(alice, acting_as=initech.id)
    from portsign.contracts.models import Party

    Party.objects.create(
        contract_id=contract["id"],
        position=1,
        kind="enterprise",
        account=alice.account,
        user=alice.user,
        enterprise=acme,
        enterprise_name=acme.name,
        status="pending",
    )
    body = {
        "contract_id": contract["id"],
        "return_url": "https://edi.example.cn/contracts/done?from=portsign",
        "state": "edi-42",
    }
    rogue = flow.oauth.post(
        f"{api}/platform/signing-returns", json={**body, "return_url": "https://evil.example/x"}
    )
    assert (rogue.status_code, rogue.json()["error"]["code"]) == (400, "return_url_invalid")
    wrong = flow.oauth.post(
        f"{api}/platform/signing-returns", json={**body, "acting_as": initech.id}
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "binding_identity")
    made = flow.oauth.post(f"{api}/platform/signing-returns", json=body)
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url == f"{live_server.url}/oauth/return/{made.json()['id']}/"
    # The person's own token may not ask for a return: only a bound platform.
    personal = alice.api.post("/platform/signing-returns", body)
    assert (personal.status_code, personal.json()["error"]["code"]) == (403, "platform_only")

    early = flow.browser.get(url)
    assert early.status_code == 409
    Party.objects.filter(contract_id=contract["id"]).update(
        status="signed", signed_by=alice.user, signed_at=timezone.now()
    )
    back = flow.browser.get(url)
    assert back.status_code == 302
    target = urlsplit(back.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == (
        "https",
        "edi.example.cn",
        "/contracts/done",
    )
    query = parse_qs(target.query)
    expected = hmac.new(
        bytes.fromhex(platform.return_secret),
        f"{contract['id']}|edi-42".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert query == {
        "from": ["portsign"],
        "contract_id": [contract["id"]],
        "state": ["edi-42"],
        "sig": [expected],
    }
    # Someone else following the link gets nothing: the login page, then 404.
    other = Browser(live_server.url, requests.Session())
    to_login = other.get(url)
    assert to_login.status_code == 302
    assert to_login.headers["Location"].startswith("/account/login/?next=/oauth/return/")
    other.sign_in(live_server.url + to_login.headers["Location"], bob.account)
    assert other.get(url).status_code == 404


def test_refresh_while_bound_and_only_the_code_grant(live_server, platform, alice, acme):
    flow, first = bind(live_server, platform, alice, acme.id)
    token_url = live_server.url + "/oauth/token/"
    fresh = flow.oauth.refresh_token(
        token_url,
        client_id=platform.application.client_id,
        client_secret=platform.client_secret,
    )
    assert fresh["access_token"] != first["access_token"]
    assert fresh["refresh_token"] != first["refresh_token"]  # rotated
    me = flow.oauth.get(live_server.url + "/api/v1/platform/binding")
    assert me.status_code == 200
    # The old refresh token is spent; a replay is refused.
    replay = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(platform.application.client_id, platform.client_secret),
        timeout=30,
    )
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    # A platform client has the authorization-code grant only.
    other = requests.post(
        token_url,
        data={"grant_type": "client_credentials"},
        auth=(platform.application.client_id, platform.client_secret),
        timeout=30,
    )
    assert (other.status_code, other.json()["error"]) == (400, "unauthorized_client")
    stranger = requests.get(
        live_server.url + "/api/v1/platform/binding",
        headers={"Authorization": "Bearer notatokenatall1234567890"},
        timeout=30,
    )
    assert stranger.status_code == 401


def test_choosing_another_identity_shows_its_facts(live_server, platform, alice, acme, initech):
    flow = start(live_server, platform, alice)
    assert flow.texts["fact-enterprise"] == "Acme Port Logistics Co., Ltd."
    chosen = flow.browser.post(flow.consent_url, {**flow.hidden, "identity": initech.id})
    assert chosen.status_code == 200
    texts = page_facts(chosen.text)[1]
    assert (texts["fact-enterprise"], texts["fact-uscc"]) == (initech.name, initech.uscc)
    # A code sent for acme does not bind initech: each consent has its own code.
    fields = {**flow.hidden, "identity": acme.id}
    assert flow.browser.post(flow.consent_url, {**fields, "action": "send"}).status_code == 200
    code = last_code(alice.account)
    crossed = flow.browser.post(
        flow.consent_url,
        {**flow.hidden, "identity": initech.id, "action": "confirm", "code": code},
    )
    assert crossed.status_code == 400
    assert Binding.objects.count() == 0
    # Nor can anyone pick an enterprise they are not a member of.
    stranger = flow.browser.post(
        flow.consent_url, {**flow.hidden, "identity": "01STRANGERENTERPRISE00000", "action": "send"}
    )
    assert stranger.status_code == 400
