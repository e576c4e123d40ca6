from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class CodePurpose(models.TextChoices):
    """What a one-time code may be used for; a code is only ever valid for its purpose."""

    REGISTER = "register", _("Registration")
    LOGIN = "login", _("Sign-in")
    RESET = "reset", _("Password reset")
    CHANGE_PHONE = "change_phone", _("Change mobile number")
    CHANGE_EMAIL = "change_email", _("Change e-mail")
    CERTIFICATE = "certificate", _("Certificate application")
    SIGN = "sign", _("Signing confirmation")
    LEGAL_REP = "legal_rep", _("Legal representative's confirmation")


# Purposes whose code goes to an account that must already exist.
EXISTING_ACCOUNT_PURPOSES = {CodePurpose.LOGIN, CodePurpose.RESET, CodePurpose.CERTIFICATE}
# Purposes whose code goes to an address that must not belong to anyone yet.
NEW_ADDRESS_PURPOSES = {CodePurpose.REGISTER, CodePurpose.CHANGE_PHONE, CodePurpose.CHANGE_EMAIL}
# Purposes anyone may ask a code for through /auth/codes and the web forms.
PUBLIC_PURPOSES = {CodePurpose.REGISTER, CodePurpose.LOGIN, CodePurpose.RESET}
# Purposes only a signed-in user may ask for: the code goes to their own address
# (certificate) or to the new address they are moving to (change_*).
SIGNED_IN_PURPOSES = {CodePurpose.CHANGE_PHONE, CodePurpose.CHANGE_EMAIL, CodePurpose.CERTIFICATE}
# Signing codes are asked for through the contract endpoints, bound to one signing request.


class VerificationMethod(models.TextChoices):
    CARRIER3 = "carrier3", _("Mobile carrier (name, ID number, phone)")
    BANK4 = "bank4", _("Bank card (name, ID number, card, reserved phone)")
    FACE = "face", _("Face recognition")


class VerificationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("verification", "In progress")
    VERIFIED = "verified", pgettext_lazy("verification", "Verified")
    FAILED = "failed", pgettext_lazy("verification", "Failed")
