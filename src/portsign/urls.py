from django.urls import include, path

from portsign.api import api
from portsign.common import views as common_views
from portsign.enterprises import views as enterprise_views
from portsign.verification.views import verify_page

urlpatterns = [
    path("", common_views.home, name="home"),
    path("console/", common_views.console, name="console"),
    path("console/enterprise/", include("portsign.enterprises.urls")),
    path("console/seals/", include("portsign.seals.urls")),
    path("console/contracts/", include("portsign.contracts.urls")),
    path("console/webhooks/", include("portsign.webhooks.urls")),
    path("console/integrations/", include("portsign.integrations.urls")),
    path("console/archive/", include("portsign.archive.urls")),
    path("console/billing/", include("portsign.billing.urls")),
    # Platform bindings (SPEC B6): OAuth 2.0 authorization server, consent and return pages.
    path("oauth/", include("portsign.integrations.oauth_urls")),
    path("console/eport/", include("portsign.eport.urls")),
    path("verify/", verify_page, name="verify"),
    path("console/backoffice/", include("portsign.backoffice.urls")),
    path("sandbox/outbox/", common_views.sandbox_outbox, name="sandbox_outbox"),
    path("sandbox/bank/", enterprise_views.sandbox_bank, name="sandbox_bank"),
    path("sandbox/face/<str:session_id>/", common_views.sandbox_face, name="sandbox_face"),
    path("account/", include("portsign.accounts.urls")),
    path("api/v1/", api.urls),
    path("pki/", include("portsign.pki.urls")),
]

# Pages get templates/500.html; /api/ keeps its JSON error shape even for a failure outside the
# API's own exception handler; a 404 under /api/ is JSON without rendering the page.
handler404 = "portsign.common.views.page_not_found"
handler500 = "portsign.common.views.server_error"
