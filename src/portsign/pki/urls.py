from django.urls import path, re_path

from portsign.pki import views

urlpatterns = [
    path("ca/", views.ca_list, name="pki_ca_list"),
    path("ca/<slug:name>.pem", views.ca_pem, name="pki_ca_pem"),
    path("crl/<slug:name>.crl", views.crl, name="pki_crl"),
    path("ocsp", views.ocsp, name="pki_ocsp"),
    re_path(r"^ocsp/(?P<encoded>.+)$", views.ocsp, name="pki_ocsp_get"),
    path("tsa", views.tsa, name="pki_tsa"),
]
