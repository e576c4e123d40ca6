"""Certificate sign-in (SPEC A2): login certificates from a CSR, challenge, signed login."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import timezone

from portsign.accounts.models import LoginChallenge, User
from portsign.common.models import AuditEvent
from portsign.pki import issuance, login_certificates
from portsign.pki.ca import init_hierarchy
from portsign.pki.login_protocol import login_message, sign_with_key
from portsign.pki.models import IssuedCertificate, KeyRecord, LoginCertificate
from portsign.pki.vault import load_private_key
from tests.helpers import Api, assert_isolated, error_code, last_code, verify_person

AUDIENCE = "testserver"  # the Host header of Django's test client


# -- helpers -------------------------------------------------------------------------------------


def new_key(algorithm: str = "ecp256"):
    if algorithm == "ecp256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[3:]))


def csr_pem(key, common_name: str = "Anyone") -> str:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        # Ed25519 signs without a separate hash.
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def certificate_code(person) -> str:
    sent = person.api.post("/auth/codes", {"to": person.account, "purpose": "certificate"})
    assert sent.status_code == 202, sent.content
    return last_code(person.user.phone or person.user.email)


def request_certificate(person, key, *, code: str | None = None, csr: str | None = None):
    body = {
        "csr": csr if csr is not None else csr_pem(key),
        "code": code or certificate_code(person),
    }
    return person.api.post("/me/login-certificates", body)


def issued(person, key) -> dict:
    response = request_certificate(person, key)
    assert response.status_code == 201, response.content
    return response.json()


def challenge(api: Api) -> dict:
    response = api.post("/auth/certificate/challenge")
    assert response.status_code == 200, response.content
    return response.json()


def login(api: Api, key, certificate_pem: str, *, audience: str = AUDIENCE, found=None):
    found = found or challenge(api)
    message = login_message(challenge=found["challenge"], audience=audience)
    return api.post(
        "/auth/certificate/login",
        {
            "challenge_id": found["challenge_id"],
            "certificate": certificate_pem,
            "signature": base64.b64encode(sign_with_key(key, message)).decode(),
        },
    )


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert error_code(response) == code


def stored(body: dict) -> IssuedCertificate:
    return LoginCertificate.objects.get(pk=body["id"]).certificate


@pytest.fixture
def hierarchy():
    return {ca.role: ca for ca in init_hierarchy()}


@pytest.fixture
def holder(hierarchy, alice):
    """Alice, real-name verified, with a login certificate for her own P-256 key."""
    verify_person(alice, 31)
    key = new_key()
    return alice, key, issued(alice, key)


# -- issuance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["rsa2048", "rsa3072", "ecp256"])
def test_happy_path_issue_then_sign_in(hierarchy, alice, api, algorithm):
    verify_person(alice, 32)
    vault_keys = KeyRecord.objects.count()
    key = new_key(algorithm)
    body = issued(alice, key)
    assert set(body) == {"id", "serial", "not_after", "pem"}
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    assert cert.public_key() == key.public_key()
    assert format(cert.serial_number, "x") == body["serial"]
    assert KeyRecord.objects.count() == vault_keys  # no private key was stored
    assert stored(body).key_id is None

    response = login(api, key, body["pem"])
    assert response.status_code == 200, response.content
    token = response.json()
    assert token["token"].startswith("pst_")
    assert token["user"]["id"] == alice.user.id
    assert Api(token["token"]).get("/me").json()["id"] == alice.user.id


def test_certificate_subject_comes_from_the_verified_identity(holder):
    alice, _key, body = holder
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    expected = issuance.person_name(name=alice.user.name, id_number=alice.user.id_number)
    assert cert.subject == expected
    assert alice.user.id_number not in body["pem"]
    assert alice.user.id_number not in cert.subject.rfc4514_string()


def test_the_requests_own_subject_is_ignored(hierarchy, alice):
    verify_person(alice, 33)
    key = new_key()
    response = request_certificate(alice, key, csr=csr_pem(key, common_name="Mallory Admin"))
    cert = x509.load_pem_x509_certificate(response.json()["pem"].encode())
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    assert names == [alice.user.name]


def test_certificate_is_a_client_auth_certificate_with_status_urls(holder, settings):
    _alice, _key, body = holder
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.content_commitment) == (True, False)
    crl = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert crl[0].full_name[0].value == f"{settings.PUBLIC_URL}/pki/crl/issuing.crl"
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in aia] == [
        f"{settings.PUBLIC_URL}/pki/ocsp",
        f"{settings.PUBLIC_URL}/pki/ca/issuing.pem",
    ]


def test_issuance_is_audited_and_bound(holder):
    alice, _key, body = holder
    binding = LoginCertificate.objects.get(pk=body["id"])
    assert binding.user_id == alice.user.id
    event = AuditEvent.objects.get(action="login_certificate.bound")
    assert (event.actor_id, event.object_id) == (alice.user.id, body["id"])
    assert event.data == {"serial": body["serial"], "algorithm": "ecp256"}
    issued_event = AuditEvent.objects.get(action="pki.certificate_issued")
    assert issued_event.data == {"serial": body["serial"], "key_held_by": "holder"}


def test_list_shows_my_bound_certificates(holder):
    alice, _key, body = holder
    listed = alice.api.get("/me/login-certificates")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "id": body["id"],
            "serial": body["serial"],
            "status": "valid",
            "not_after": body["not_after"],
        }
    ]


def test_unverified_person_cannot_get_one(hierarchy, charlie):
    response = request_certificate(charlie, new_key(), code="123456")
    refused(response, 409, "real_name_required")
    assert not IssuedCertificate.objects.exists()


def test_wrong_code_is_refused(hierarchy, alice):
    verify_person(alice, 34)
    certificate_code(alice)
    refused(request_certificate(alice, new_key(), code="000000"), 400, "code_wrong")
    assert not LoginCertificate.objects.exists()


def _tampered_csr(key) -> str:
    der = bytearray(
        x509.load_pem_x509_csr(csr_pem(key).encode()).public_bytes(serialization.Encoding.DER)
    )
    der[-5] ^= 0x01  # inside the signature
    body = base64.encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


@pytest.mark.parametrize(
    ("make_csr", "code"),
    [
        (lambda: "not a request", "csr_malformed"),
        (
            lambda: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
            "csr_malformed",
        ),
        (
            lambda: csr_pem(rsa.generate_private_key(65537, 1024)),  # noqa: S505 - refused
            "csr_key_unsupported",
        ),
        (lambda: csr_pem(ec.generate_private_key(ec.SECP384R1())), "csr_key_unsupported"),
        (lambda: csr_pem(ed25519.Ed25519PrivateKey.generate()), "csr_key_unsupported"),
        (lambda: _tampered_csr(new_key("rsa2048")), "csr_signature_invalid"),
    ],
)
def test_bad_requests_are_400_and_keep_the_code(hierarchy, alice, make_csr, code):
    verify_person(alice, 35)
    sent = certificate_code(alice)
    response = request_certificate(alice, None, code=sent, csr=make_csr())
    refused(response, 400, code)
    assert "csr" in response.json()["error"]["fields"]
    # The request was judged before the code, so the same code still works.
    assert request_certificate(alice, new_key(), code=sent).status_code == 201


# -- sign-in refusals ----------------------------------------------------------------------------


def test_wrong_signature_is_refused_and_audited(holder, api):
    _alice, _key, body = holder
    response = login(api, new_key(), body["pem"])
    refused(response, 401, "signature_invalid")
    event = AuditEvent.objects.get(action="login.failed")
    assert event.data == {
        "method": "certificate",
        "reason": "signature_invalid",
        "serial": body["serial"],
        "challenge_id": event.data["challenge_id"],
    }
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()


def test_success_is_audited(holder, api):
    alice, key, body = holder
    assert login(api, key, body["pem"]).status_code == 200
    event = AuditEvent.objects.get(action="login.succeeded")
    assert event.actor_id == alice.user.id
    assert (event.data["method"], event.data["serial"]) == ("certificate", body["serial"])


def test_signature_for_another_audience_is_refused(holder, api):
    _alice, key, body = holder
    refused(login(api, key, body["pem"], audience="evil.example"), 401, "signature_invalid")


def test_public_url_is_an_accepted_audience(holder, api, settings):
    _alice, key, body = holder
    settings.PUBLIC_URL = "https://sign.portsign.example"
    assert login(api, key, body["pem"], audience="sign.portsign.example").status_code == 200


def test_signature_without_the_label_is_refused(holder, api):
    _alice, key, body = holder
    found = challenge(api)
    raw = sign_with_key(key, found["challenge"].encode())
    response = api.post(
        "/auth/certificate/login",
        {
            "challenge_id": found["challenge_id"],
            "certificate": body["pem"],
            "signature": base64.b64encode(raw).decode(),
        },
    )
    refused(response, 401, "signature_invalid")


def _self_signed(key, subject: x509.Name, *, eku: bool = True) -> str:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_self_signed_certificate_is_untrusted(holder, api):
    _alice, _key, body = holder
    key = new_key()
    subject = x509.load_pem_x509_certificate(body["pem"].encode()).subject
    refused(login(api, key, _self_signed(key, subject)), 401, "certificate_untrusted")


def test_lookalike_ca_reusing_our_serial_is_untrusted(holder, api, hierarchy):
    """Another CA named like ours, issuing a copy of Alice's certificate for its own key."""
    _alice, _key, body = holder
    real = x509.load_pem_x509_certificate(body["pem"].encode())
    fake_ca_key, key = new_key(), new_key()
    fake = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(fake_ca_key, hashes.SHA256())
    )
    pem = fake.public_bytes(serialization.Encoding.PEM).decode()
    refused(login(api, key, pem), 401, "certificate_untrusted")


def test_expired_certificate_is_refused(holder, api, monkeypatch):
    _alice, key, body = holder
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3 * 365)
    monkeypatch.setattr(login_certificates, "_now", lambda: later)
    refused(login(api, key, body["pem"]), 401, "certificate_expired")


def test_not_yet_valid_certificate_is_refused(holder, api, monkeypatch):
    _alice, key, body = holder
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    monkeypatch.setattr(login_certificates, "_now", lambda: earlier)
    refused(login(api, key, body["pem"]), 401, "certificate_not_yet_valid")


def test_suspended_certificate_is_refused_until_released(holder, api):
    _alice, key, body = holder
    cert = stored(body)
    issuance.suspend(cert.id)
    refused(login(api, key, body["pem"]), 401, "certificate_suspended")
    issuance.release(cert.id)
    assert login(api, key, body["pem"]).status_code == 200


def test_revoked_certificate_is_refused(holder, api):
    _alice, key, body = holder
    issuance.revoke(stored(body).id, reason="key_compromise")
    refused(login(api, key, body["pem"]), 401, "certificate_revoked")


def test_unbound_certificate_is_revoked_and_refused(holder, api):
    alice, key, body = holder
    assert alice.api.delete(f"/me/login-certificates/{body['id']}").status_code == 204
    cert = stored(body)
    assert (cert.status, cert.revocation_reason) == ("revoked", "cessation_of_operation")
    assert alice.api.get("/me/login-certificates").json() == []
    refused(login(api, key, body["pem"]), 401, "certificate_revoked")
    refused(alice.api.delete(f"/me/login-certificates/{body['id']}"), 404, "not_found")
    event = AuditEvent.objects.get(action="login_certificate.unbound")
    assert (event.actor_id, event.data) == (alice.user.id, {"serial": body["serial"]})


def _unbound_login_certificate(person, key) -> str:
    """A login certificate of our CA for *key* that no account holds (issued, never bound)."""
    subject = issuance.person_name(name=person.user.name, id_number=person.user.id_number)
    ca, cert = issuance.sign_certificate(
        subject=subject, public_key=key.public_key(), client_auth=True
    )
    issuance.record_certificate(ca=ca, certificate=cert, key=None)
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_certificate_that_is_not_bound_is_refused(holder, api):
    alice, _key, _body = holder
    key = new_key()
    refused(login(api, key, _unbound_login_certificate(alice, key)), 401, "certificate_not_bound")


def test_a_stranger_cannot_tell_bound_from_unbound(holder, api):
    """Without the key, a bound and an unbound certificate fail identically."""
    alice, _key, body = holder
    unbound = _unbound_login_certificate(alice, new_key())
    answers = [login(api, new_key(), pem) for pem in (body["pem"], unbound)]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json() == answers[1].json()
    assert error_code(answers[0]) == "signature_invalid"


def test_disabled_account_cannot_sign_in(holder, api):
    alice, key, body = holder
    User.objects.filter(pk=alice.user.pk).update(is_active=False)
    refused(login(api, key, body["pem"]), 401, "account_disabled")


def test_cloud_certificate_is_refused_for_login(hierarchy, alice, api):
    """A cloud certificate's key is in PortSign's vault: a signature with it proves nothing."""
    verify_person(alice, 36)
    cloud = alice.api.post("/me/certificates", {"code": certificate_code(alice)}).json()
    assert cloud["status"] == "issued"
    vault_key = load_private_key(IssuedCertificate.objects.get(serial=cloud["serial"]).key_id)
    refused(login(api, vault_key, cloud["pem"]), 401, "certificate_not_for_login")


def test_cloud_certificate_is_refused_even_if_bound(hierarchy, alice, api):
    """Defence in depth: a vault-keyed certificate never signs in, whatever binds it."""
    verify_person(alice, 37)
    issued_cert = issuance.issue_certificate(
        subject=issuance.person_name(name=alice.user.name, id_number=alice.user.id_number)
    )
    LoginCertificate.objects.create(user=alice.user, certificate=issued_cert)
    key = load_private_key(issued_cert.key_id)
    refused(login(api, key, issued_cert.certificate_pem), 401, "certificate_not_for_login")


# -- challenges ----------------------------------------------------------------------------------


def test_challenge_is_random_and_short_lived(api, settings):
    first, second = challenge(api), challenge(api)
    assert first["challenge"] != second["challenge"]
    assert len(base64.b64decode(first["challenge"])) == 32
    assert first["expires_in"] == settings.CERT_LOGIN_CHALLENGE_SECONDS


def test_replayed_challenge_is_refused(holder, api):
    _alice, key, body = holder
    found = challenge(api)
    assert login(api, key, body["pem"], found=found).status_code == 200
    refused(login(api, key, body["pem"], found=found), 401, "challenge_used")
    assert AuditEvent.objects.filter(action="login.succeeded").count() == 1


def test_a_failed_attempt_uses_up_the_challenge(holder, api):
    _alice, key, body = holder
    found = challenge(api)
    refused(login(api, new_key(), body["pem"], found=found), 401, "signature_invalid")
    refused(login(api, key, body["pem"], found=found), 401, "challenge_used")


def test_expired_challenge_is_refused(holder, api):
    _alice, key, body = holder
    found = challenge(api)
    LoginChallenge.objects.filter(pk=found["challenge_id"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    refused(login(api, key, body["pem"], found=found), 401, "challenge_expired")


def test_unknown_challenge_is_refused(holder, api):
    _alice, key, body = holder
    found = {"challenge_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "challenge": "AAAA"}
    refused(login(api, key, body["pem"], found=found), 401, "challenge_unknown")


def test_challenges_are_rate_limited_per_ip(api, settings):
    settings.CERT_LOGIN_IP_HOURLY_LIMIT = 2
    challenge(api)
    challenge(api)
    response = api.post("/auth/certificate/challenge")
    refused(response, 429, "challenge_ip_limit")
    assert 3500 <= int(response["Retry-After"]) <= 3600


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("certificate", "not a certificate", "certificate_malformed"),
        ("signature", "***", "signature_malformed"),
        ("signature", "", "signature_malformed"),
    ],
)
def test_malformed_login_is_400(holder, api, field, value, code):
    _alice, key, body = holder
    found = challenge(api)
    payload = {"challenge_id": found["challenge_id"], "certificate": body["pem"]}
    payload["signature"] = base64.b64encode(b"x" * 64).decode()
    payload[field] = value
    refused(api.post("/auth/certificate/login", payload), 400, code)
    # A malformed request is not an attempt: the challenge still works.
    assert login(api, key, body["pem"], found=found).status_code == 200


# -- tenancy -------------------------------------------------------------------------------------


def test_someone_elses_login_certificate_is_404(holder, bob):
    alice, _key, body = holder
    assert bob.api.get("/me/login-certificates").json() == []
    assert_isolated(alice, bob, "DELETE", f"/me/login-certificates/{body['id']}", owner_status=204)
    assert stored(body).status == "revoked"


def test_login_certificates_need_sign_in(api):
    refused(api.get("/me/login-certificates"), 401, "unauthorized")
    refused(api.post("/me/login-certificates", {"csr": "x", "code": "123456"}), 401, "unauthorized")


# -- console -------------------------------------------------------------------------------------


def _console(person):
    from django.test import Client

    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def test_console_lists_and_unbinds_login_certificates(holder):
    alice, _key, body = holder
    web = _console(alice)
    page = web.get("/account/me/").content.decode()
    assert page.count('<section class="card" id="login-certificates">') == 1
    assert page.count(body["serial"]) == 1
    assert "portsign login-certificate request" in page
    unbound = web.post(f"/account/me/login-certificates/{body['id']}/unbind/")
    assert unbound.status_code == 302
    assert stored(body).status == "revoked"
    assert body["serial"] not in web.get("/account/me/").content.decode()


def test_console_cannot_unbind_someone_elses_certificate(holder, bob):
    _alice, _key, body = holder
    assert (
        _console(bob).post(f"/account/me/login-certificates/{body['id']}/unbind/").status_code
        == 404
    )
    assert stored(body).status == "valid"
    assert LoginCertificate.objects.get(pk=body["id"]).unbound_at is None


def test_console_sends_the_certificate_code_to_myself(alice):
    from portsign.accounts.models import VerificationCode

    web = _console(alice)
    page = web.get("/account/me/").content.decode()
    assert 'data-testid="login-certificate-code"' in page
    assert f'name="account" value="{alice.account}"' in page
    # What the button posts (hx-include of its form plus hx-vals).
    sent = web.post(
        "/account/send-code/",
        {"purpose": "certificate", "field": "account", "account": alice.account},
    )
    assert sent.status_code == 200
    code = VerificationCode.objects.get(target=alice.account)
    assert code.purpose == "certificate"


def test_before_the_ca_exists_nothing_is_trusted(api):
    key = new_key()
    pem = _self_signed(key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Early")]))
    refused(login(api, key, pem), 401, "certificate_untrusted")
