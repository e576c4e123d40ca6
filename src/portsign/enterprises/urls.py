from django.urls import path

from portsign.enterprises import views

app_name = "enterprises"

urlpatterns = [
    path("", views.index, name="index"),
    path("create/", views.create, name="create"),
    path("acting/", views.switch_acting, name="switch_acting"),
    path("join-requests/<str:request_id>/decide/", views.join_decide, name="join_decide"),
    path("join-requests/<str:request_id>/withdraw/", views.join_withdraw, name="join_withdraw"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("<str:enterprise_id>/", views.detail, name="detail"),
    path("<str:enterprise_id>/invite/", views.member_invite, name="member_invite"),
    path("<str:enterprise_id>/join/", views.join_apply, name="join_apply"),
    path("<str:enterprise_id>/materials/", views.materials_upload, name="materials"),
    path("<str:enterprise_id>/certificates/", views.certificate_apply, name="certificate_apply"),
    path(
        "<str:enterprise_id>/certificates/<str:application_id>/renew/",
        views.certificate_renew,
        name="certificate_renew",
    ),
    path(
        "<str:enterprise_id>/certificates/<str:application_id>/decide/",
        views.certificate_decide,
        name="certificate_decide",
    ),
    path(
        "<str:enterprise_id>/certificate-authorizations/",
        views.certificate_authorization,
        name="certificate_authorization",
    ),
    path("<str:enterprise_id>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    path("<str:enterprise_id>/letter/", views.letter_upload, name="letter_upload"),
    path(
        "<str:enterprise_id>/manual-review/",
        views.manual_review_request,
        name="manual_review_request",
    ),
    path("<str:enterprise_id>/legal-rep/", views.legal_rep_start, name="legal_rep_start"),
    path(
        "<str:enterprise_id>/legal-rep/confirm/", views.legal_rep_confirm, name="legal_rep_confirm"
    ),
    path("<str:enterprise_id>/verification/start/", views.deposit_start, name="deposit_start"),
    path(
        "<str:enterprise_id>/verification/confirm/", views.deposit_confirm, name="deposit_confirm"
    ),
    path("<str:enterprise_id>/verification/check/", views.deposit_check, name="deposit_check"),
    path("<str:enterprise_id>/members/<str:member_id>/", views.member_update, name="member_update"),
    path(
        "<str:enterprise_id>/members/<str:member_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "<str:enterprise_id>/members/<str:member_id>/transfer/",
        views.member_transfer,
        name="member_transfer",
    ),
    path("<str:enterprise_id>/main-admin/", views.hand_over, name="hand_over"),
    path("<str:enterprise_id>/departments/", views.department_list, name="departments"),
    path(
        "<str:enterprise_id>/departments/create/",
        views.department_create,
        name="department_create",
    ),
    path(
        "<str:enterprise_id>/departments/<str:department_id>/",
        views.department_update,
        name="department_update",
    ),
    path(
        "<str:enterprise_id>/departments/<str:department_id>/delete/",
        views.department_delete,
        name="department_delete",
    ),
    path(
        "<str:enterprise_id>/departments/<str:department_id>/members/",
        views.department_member_add,
        name="department_member_add",
    ),
    path(
        "<str:enterprise_id>/departments/<str:department_id>/members/<str:member_id>/remove/",
        views.department_member_remove,
        name="department_member_remove",
    ),
    path("<str:enterprise_id>/roles/", views.role_create, name="role_create"),
    path("<str:enterprise_id>/roles/<str:role_id>/delete/", views.role_delete, name="role_delete"),
]
