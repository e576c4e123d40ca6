from django.urls import path

from portsign.contracts import views

app_name = "contracts"

urlpatterns = [
    path("", views.index, name="index"),
    path("download/", views.download_zip, name="download_zip"),
    path("batch/", views.batch, name="batch"),
    path("new/", views.new, name="new"),
    path("settings/", views.catalogue_page, name="catalogue"),
    path("confirm/<str:intent_id>/", views.confirm_intent, name="confirm"),
    path("<str:contract_id>/", views.detail, name="detail"),
    path("<str:contract_id>/parties/", views.add_party, name="add_party"),
    path(
        "<str:contract_id>/parties/<str:party_id>/remove/", views.remove_party, name="remove_party"
    ),
    path("<str:contract_id>/attachments/", views.attach, name="attach"),
    path("<str:contract_id>/send/", views.send, name="send"),
    path("<str:contract_id>/fill/", views.fill, name="fill"),
    path("<str:contract_id>/finish/", views.finish, name="finish"),
    path("<str:contract_id>/revoke/", views.revoke, name="revoke"),
    path("<str:contract_id>/reject/", views.reject, name="reject"),
    path("<str:contract_id>/remind/", views.remind, name="remind"),
    path("<str:contract_id>/deadline/", views.extend, name="extend"),
    path("<str:contract_id>/void/", views.void, name="void"),
    path("<str:contract_id>/approvals/", views.ask_approval, name="ask_approval"),
    path(
        "<str:contract_id>/approvals/<str:approval_id>/decide/",
        views.decide_approval,
        name="decide_approval",
    ),
]

# Templates and bulk sends (issue 6 §1–2), matched first: "templates/" is not a contract id.
from portsign.contracts import template_views  # noqa: E402

urlpatterns = [*template_views.urlpatterns, *urlpatterns]

# The offline evidence package (issue 13, beyond the anchors).
from portsign.contracts import package_views  # noqa: E402

urlpatterns.append(
    path(
        "<str:contract_id>/evidence-package/",
        package_views.evidence_package,
        name="evidence_package",
    )
)
