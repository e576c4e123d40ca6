from django.urls import path

from portsign.eport import agreement_views, card_views, entrustment_views, views

app_name = "eport"

urlpatterns = [
    # The E-Port page, with the card session's subsystems (card_views.index calls views.index).
    path("", card_views.index, name="index"),
    path("filings/new/", views.start, name="start"),
    path("filings/<str:filing_id>/", views.filing, name="filing"),
    path("filings/<str:filing_id>/documents/", views.add_document, name="add_document"),
    path(
        "filings/<str:filing_id>/documents/<str:document_id>/remove/",
        views.remove_document,
        name="remove_document",
    ),
    path(
        "filings/<str:filing_id>/documents/<str:document_id>/preview/",
        views.document_preview,
        name="document_preview",
    ),
    path("filings/<str:filing_id>/delete/", views.delete, name="delete"),
    path("reviews/", views.review_queue, name="reviews"),
    path("reviews/<str:filing_id>/", views.review, name="review"),
    path("authorities/<str:authority_id>/auto-approve/", views.auto_approve, name="auto_approve"),
    # E-Port cards (issue 14): sign-in, the holder's cards, the enterprise's, the office's.
    path("cards/", card_views.enterprise_cards, name="cards"),
    path("cards/sign-in/", card_views.sign_in, name="card_sign_in"),
    path("cards/mine/", card_views.my_cards, name="my_cards"),
    path("cards/<str:card_id>/", card_views.card_detail, name="card"),
    path("cards/<str:card_id>/pin/", card_views.change_pin, name="card_pin"),
    path("cards/<str:card_id>/act/", card_views.act, name="card_act"),
    path("office/cards/", card_views.office_cards, name="office_cards"),
    path("office/cards/issue/", card_views.office_issue, name="office_card_issue"),
    path("office/cards/<str:card_id>/", card_views.office_card, name="office_card"),
    path(
        "office/cards/<str:card_id>/act/",
        card_views.act,
        {"office": True},
        name="office_card_act",
    ),
    # 通关无纸化三方协议 (issue 15): the enterprise's agreements and signing, customs' queue.
    path("agreements/", agreement_views.enterprise_agreements, name="agreements"),
    path("agreements/sign/", agreement_views.sign, name="agreement_sign"),
    path("agreements/<str:agreement_id>/", agreement_views.agreement_detail, name="agreement"),
    path(
        "agreements/<str:agreement_id>/document.pdf",
        agreement_views.agreement_document,
        name="agreement_document",
    ),
    path(
        "agreements/<str:agreement_id>/terminate/",
        agreement_views.terminate,
        name="agreement_terminate",
    ),
    path("customs/agreements/", agreement_views.customs_agreements, name="customs_agreements"),
    path(
        "customs/agreements/<str:agreement_id>/",
        agreement_views.customs_agreement,
        name="customs_agreement",
    ),
    # 代理报关委托 (issue 15 point 3): given and taken, new, each one, and 自动确认.
    path("entrustments/", entrustment_views.entrustment_list, name="entrustments"),
    path("entrustments/new/", entrustment_views.entrustment_new, name="entrustment_new"),
    path("entrustments/auto-confirm/", entrustment_views.auto_confirm, name="entrustment_auto"),
    path(
        "entrustments/<str:entrustment_id>/",
        entrustment_views.entrustment_detail,
        name="entrustment",
    ),
    path(
        "entrustments/<str:entrustment_id>/document.pdf",
        entrustment_views.entrustment_document,
        name="entrustment_document",
    ),
]
