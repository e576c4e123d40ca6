from django.urls import path

from portsign.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("register/", views.register_view, name="register"),
    path("reset/", views.reset_view, name="reset"),
    path("logout/", views.logout_view, name="logout"),
    path("send-code/", views.send_code_view, name="send_code"),
    path("captcha/", views.captcha_view, name="captcha"),
    path("captcha/<str:captcha_id>.png", views.captcha_image, name="captcha_image"),
    path("language/", views.language_view, name="language"),
    path("me/", views.profile_view, name="profile"),
    path("me/password/", views.password_view, name="password"),
    path("me/phone/", views.phone_view, name="phone"),
    path("me/email/", views.email_view, name="email"),
    path("me/verification/", views.verification_view, name="verification"),
    path("me/tokens/", views.token_create_view, name="token_create"),
    path("me/tokens/<str:token_id>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("me/certificates/", views.certificate_apply_view, name="certificate_apply"),
    path(
        "me/certificates/<str:application_id>/renew/",
        views.certificate_renew_view,
        name="certificate_renew",
    ),
    path(
        "me/login-certificates/<str:binding_id>/unbind/",
        views.login_certificate_unbind_view,
        name="login_certificate_unbind",
    ),
]
