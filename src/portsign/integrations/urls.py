from django.urls import path

from portsign.integrations import views

app_name = "integrations"

urlpatterns = [
    path("enterprise/<str:enterprise_id>/api-keys/", views.api_keys, name="api_keys"),
    path("enterprise/<str:enterprise_id>/api-keys/create/", views.create, name="create"),
    path(
        "enterprise/<str:enterprise_id>/api-keys/<str:key_id>/revoke/",
        views.revoke,
        name="revoke",
    ),
]
