from django.urls import path

from portsign.archive import views

app_name = "archive"

urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("ledger.xlsx", views.export, name="ledger"),
    path("<str:item_id>/", views.detail, name="detail"),
    path("<str:item_id>/update/", views.update, name="update"),
    path("<str:item_id>/delete/", views.delete, name="delete"),
    path("<str:item_id>/document.pdf", views.document, name="document"),
]
