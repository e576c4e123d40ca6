from django.urls import path

from portsign.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<str:review_id>/", views.detail, name="detail"),
    path("<str:review_id>/decide/", views.decide, name="decide"),
    path("<str:review_id>/files/<int:index>/", views.review_file, name="file"),
]
