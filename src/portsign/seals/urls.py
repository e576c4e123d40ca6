from django.urls import path

from portsign.seals import views

app_name = "seals"

urlpatterns = [
    path("", views.index, name="index"),
    path("signatures/", views.signature_create, name="signature_create"),
    path("enterprise/<str:enterprise_id>/", views.enterprise, name="enterprise"),
    path("enterprise/<str:enterprise_id>/create/", views.create, name="create"),
    path("enterprise/<str:enterprise_id>/scans/", views.scan_upload, name="scan_upload"),
    path("<str:seal_id>/update/", views.update, name="update"),
    path("<str:seal_id>/delete/", views.delete, name="delete"),
    path("<str:seal_id>/grant/", views.grant, name="grant"),
    path("<str:seal_id>/remove-holders/", views.remove_holders, name="remove_holders"),
]
