from django.urls import path

from portsign.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("enterprise/<str:enterprise_id>/", views.enterprise, name="enterprise"),
    path("enterprise/<str:enterprise_id>/create/", views.create, name="create"),
    path("<str:endpoint_id>/", views.log, name="log"),
    path("<str:endpoint_id>/update/", views.update, name="update"),
    path("<str:endpoint_id>/rotate/", views.rotate, name="rotate"),
    path("<str:endpoint_id>/delete/", views.delete, name="delete"),
    path(
        "<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver/",
        views.redeliver,
        name="redeliver",
    ),
]
