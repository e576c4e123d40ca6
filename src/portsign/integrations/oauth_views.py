"""The OAuth 2.0 pages of platform bindings (SPEC B6): django-oauth-toolkit's authorization
endpoint with PortSign's consent page, and the return to the platform after signing.

The consent page (seed 000's 授权同意) names the platform and lists exactly what it will get:
the account (masked), the real-name status and the chosen enterprise's name, USCC and
verification status. The person picks the identity (one of their enterprises, or
themselves), asks for a code, and confirms with it; only then does DOT issue the code.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import Application
from oauth2_provider.views import AuthorizationView

from portsign.accounts.backends import signed_in_user
from portsign.common.errors import DomainError
from portsign.integrations.domain import bindings, returns

SEND, CONFIRM, DENY = "send", "confirm", "deny"


class ConsentForm(AllowForm):
    identity = forms.CharField(required=False)
    code = forms.CharField(required=False, max_length=6)
    # Empty: the identity select changed, so the page shows that identity's facts again.
    action = forms.ChoiceField(
        required=False, choices=[("", ""), (SEND, SEND), (CONFIRM, CONFIRM), (DENY, DENY)]
    )


class ConsentView(AuthorizationView):
    """DOT's AuthorizationView (sign-in required: to the login page with next=) with the
    consent and code steps in front of issuing the code."""

    template_name = "integrations/oauth_consent.html"
    form_class = ConsentForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # DOT lets the client ask `approval_prompt=auto` to skip the consent when it already
        # holds a token; a binding is confirmed with a code every time, so that is ignored.
        if "approval_prompt" in request.GET:
            query = request.GET.copy()
            del query["approval_prompt"]
            request.GET = query  # type: ignore[assignment]  # a copy without the one key
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = signed_in_user(self.request)
        choices = bindings.choosable_enterprises(user=user)
        chosen = context.get("identity") or (choices[0].id if choices else bindings.PERSONAL)
        context["enterprises"] = choices
        context["identity"] = chosen
        enterprise = next((e for e in choices if e.id == chosen), None)
        context["facts"] = bindings.shared_facts(user=user, enterprise=enterprise)
        return context

    def form_valid(self, form: forms.Form) -> HttpResponse:
        data = form.cleaned_data
        if data["action"] == DENY:
            data["allow"] = False
            return super().form_valid(form)
        user = signed_in_user(self.request)
        application = Application.objects.get(client_id=data["client_id"])
        try:
            enterprise = bindings.chosen_enterprise(user=user, choice=data["identity"])
            if not data["action"]:
                return self._again(form, application)
            if data["action"] == SEND:
                sent_to = bindings.send_binding_code(
                    user=user, application=application, enterprise=enterprise
                )
                return self._again(form, application, sent_to=sent_to)
            bindings.bind_platform(
                user=user,
                application=application,
                enterprise=enterprise,
                scopes=data["scope"].split(),
                code=data["code"],
            )
        except DomainError as error:
            return self._again(form, application, error=str(error.message), status=400)
        data["allow"] = True
        return super().form_valid(form)

    def _again(
        self,
        form: forms.Form,
        application: Application,
        *,
        sent_to: str = "",
        error: str = "",
        status: int = 200,
    ) -> HttpResponse:
        """The consent page again, keeping the request's hidden fields and the choice."""
        data = form.cleaned_data
        context = self.get_context_data(
            form=form,
            application=application,
            identity=data["identity"] or bindings.PERSONAL,
            scopes=data["scope"].split(),
            sent_to=sent_to,
            error=error,
        )
        return self.render_to_response(context, status=status)


@login_required
@require_GET
def binding_list(request: HttpRequest) -> HttpResponse:
    """已绑定: the platforms bound to the signed-in person, each with 解除绑定."""
    rows = bindings.bindings_of(user=signed_in_user(request))
    return render(request, "integrations/oauth_bindings.html", {"bindings": rows})


@login_required
@require_POST
def binding_unbind(request: HttpRequest, binding_id: str) -> HttpResponse:
    try:
        bindings.revoke_binding(user=signed_in_user(request), binding_id=binding_id)
    except DomainError as error:
        raise Http404(str(error.message)) from error
    messages.success(request, _("Unbound. The platform can no longer act for you."))
    return redirect("oauth2_provider:bindings")


@login_required
@require_GET
def signing_return(request: HttpRequest, return_id: str) -> HttpResponse:
    """After signing: back to the platform with the contract id, its state and a signature."""
    try:
        target = returns.return_target(user=signed_in_user(request), return_id=return_id)
    except DomainError as error:
        status = 409 if error.code == "not_signed" else 404
        context = {
            "error": error.message,
            "title": _("Return to the platform"),
            "contract_id": error.fields.get("contract_id", ""),
        }
        return render(request, "integrations/oauth_return.html", context, status=status)
    return HttpResponseRedirect(target)
