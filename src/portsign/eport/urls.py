from django.urls import path

from portsign.eport import views

app_name = "eport"

urlpatterns = [
    path("", views.index, name="index"),
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
]
