"""Keys (always encrypted at rest) and the certificate authorities built on them."""

from __future__ import annotations

from django.db import models

from portsign.common.ids import new_id


class KeyRecord(models.Model):
    """A private key under envelope encryption: the key (PKCS#8 DER) is sealed with its own
    data key (AES-256-GCM), and the data key is sealed with the key-encryption key (KEK)."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    algorithm = models.CharField(max_length=16)  # rsa2048 | rsa3072 | ecp256 | secret
    kek_id = models.CharField(max_length=16)  # which KEK wrapped the data key
    wrapped_dek = models.BinaryField()  # nonce(12) + AES-GCM(KEK, data key)
    sealed_key = models.BinaryField()  # nonce(12) + AES-GCM(data key, PKCS#8 DER)
    created_at = models.DateTimeField(auto_now_add=True)


class CertificateAuthority(models.Model):
    """PortSign's own CA hierarchy: root → issuing CA, plus the OCSP and TSA signers."""

    class Role(models.TextChoices):
        ROOT = "root"
        ISSUING = "issuing"
        OCSP = "ocsp"
        TSA = "tsa"

    name = models.SlugField(primary_key=True, max_length=32)  # used in URLs: /pki/ca/<name>.pem
    role = models.CharField(max_length=8, choices=Role.choices, unique=True)
    certificate_pem = models.TextField()
    key = models.ForeignKey(KeyRecord, on_delete=models.PROTECT, related_name="+")
    issuer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Increases on every change of the CA's revocation list (RFC 5280 cRLNumber).
    crl_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class IssuedCertificate(models.Model):
    """An end-entity certificate issued by PortSign's issuing CA (persons and enterprises)."""

    class Status(models.TextChoices):
        VALID = "valid"
        SUSPENDED = "suspended"  # RFC 5280 certificateHold: may be released
        REVOKED = "revoked"  # final

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    issuer = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="issued"
    )
    serial = models.CharField(max_length=40, unique=True)  # lower-case hex
    subject = models.CharField(max_length=300)
    certificate_pem = models.TextField()
    # The vault key of a cloud certificate. Empty for a login certificate issued from its
    # holder's CSR: that key lives only in the holder's file or token (SPEC A2).
    key = models.ForeignKey(
        KeyRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=32, blank=True)  # x509.ReasonFlags value
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["issuer", "status"])]


class LoginCertificate(models.Model):
    """A person's certificate for signing in (SPEC A2, the UKey login): issued from their CSR,
    bound to their account on issuance. Unbinding revokes it; the row stays as evidence."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="login_certificates"
    )
    certificate = models.OneToOneField(
        IssuedCertificate, on_delete=models.PROTECT, related_name="login_binding"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    unbound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "unbound_at"])]


class CertificateSignIn(models.Model):
    """An API token opened by signing in with a certificate, and which one (the console keeps
    it in the session): what the token may do can depend on it (an E-Port card's role)."""

    id = models.BigAutoField(primary_key=True)
    certificate = models.ForeignKey(IssuedCertificate, on_delete=models.PROTECT, related_name="+")
    api_token = models.OneToOneField(
        "accounts.ApiToken", on_delete=models.CASCADE, related_name="certificate_sign_in"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class CertificateAuthorization(models.Model):
    """A single-use certificate authorization code (证书授权码, seed 003): an enterprise
    administrator hands it to a member who is not an administrator, who may then apply for the
    enterprise's certificate as its handler (经办人). Only a keyed hash of the code is kept."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["enterprise", "created_at"])]


class CertificateApplication(models.Model):
    """A person's or an enterprise's application for a certificate (SPEC C5, seed 003):
    certificate, invoice and mailing information, materials, confirmed by the applicant with
    an SMS code, approved per policy, then issued (cloud) or handed to offline delivery (UKey)."""

    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for approval
        ISSUED = "issued"
        # Approved UKey certificate: the token is prepared and mailed offline.
        PENDING_DELIVERY = "pending_delivery"
        REJECTED = "rejected"

    class Medium(models.TextChoices):
        CLOUD = "cloud"  # key in PortSign's vault: the only kind that signs on PortSign
        UKEY = "ukey"  # hardware token mailed to the applicant

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    applicant = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    # Empty for a personal certificate.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    # A department's certificate (seed 003: a certificate per selected seal): the subject adds
    # OU=<department> to the enterprise's; a department seal signs with it when it is usable.
    department = models.ForeignKey(
        "enterprises.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    term_years = models.PositiveSmallIntegerField(default=2)
    medium = models.CharField(max_length=8, choices=Medium.choices, default=Medium.CLOUD)
    invoice_title = models.CharField(max_length=100, blank=True)
    invoice_tax_number = models.CharField(max_length=20, blank=True)
    invoice_email = models.EmailField(blank=True)
    # Mailing information: UKey only (a cloud certificate has nothing to mail).
    mail_recipient = models.CharField(max_length=50, blank=True)
    mail_phone = models.CharField(max_length=20, blank=True)
    mail_address = models.CharField(max_length=200, blank=True)
    # The authorization code a non-administrator handler applied with.
    authorization = models.OneToOneField(
        CertificateAuthorization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application",
    )
    # A renewal names the application whose certificate it renews.
    renews = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals"
    )
    certificate = models.OneToOneField(
        IssuedCertificate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application",
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # When the holder was told the certificate expires soon (sent once).
    expiry_notified_at = models.DateTimeField(null=True, blank=True)


class CertificateMaterial(models.Model):
    """A file that goes with a certificate application: uploaded first (unattached, by its
    uploader), attached when the application is made. The enterprise's business licence from
    its verification is attached automatically and shares the stored (content-addressed) file."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        CertificateApplication,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="materials",
    )
    label = models.CharField(max_length=20)  # business_licence | material
    path = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=8)  # jpeg | png | pdf
    size = models.PositiveIntegerField(null=True, blank=True)
    # Order within the application: the licence first, then the uploads as named.
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
