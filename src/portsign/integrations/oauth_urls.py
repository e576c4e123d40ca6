"""/oauth/: django-oauth-toolkit's endpoints with PortSign's consent page (SPEC B6)."""

from django.urls import path
from oauth2_provider import views as oauth_views

from portsign.integrations import oauth_views as views

app_name = "oauth2_provider"  # DOT's views reverse their own names in this namespace

urlpatterns = [
    path("authorize/", views.ConsentView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("bindings/", views.binding_list, name="bindings"),
    path("bindings/<str:binding_id>/unbind/", views.binding_unbind, name="unbind"),
    path("return/<str:return_id>/", views.signing_return, name="signing_return"),
]
