from django.contrib import admin
from django.urls import include, path

from fincrm.api import views as api_views
from fincrm.api.api import api
from fincrm.customers import urls as customer_urls
from fincrm.engagement import urls as engagement_urls
from fincrm.messaging import urls as messaging_urls
from fincrm.surveys import views as survey_views
from fincrm.web import customer360

urlpatterns = [
    path("", include("fincrm.web.urls")),
    path("accounts/", include("fincrm.accounts.urls")),
    # The customers namespace: the app's own pages and the 360° page and personal-data
    # requests, which the web layer composes from every app (``fincrm.web.customer360``).
    path(
        "customers/",
        include((customer_urls.urlpatterns + customer360.urlpatterns, customer_urls.app_name)),
    ),
    path("financing/", include("fincrm.financing.urls")),
    path("evaluation/", include("fincrm.evaluation.urls")),
    path("risk/", include("fincrm.risk.urls")),
    path(
        "engagement/",
        include(
            (engagement_urls.urlpatterns + messaging_urls.engagement_urlpatterns, "engagement")
        ),
    ),
    path("messaging/", include("fincrm.messaging.urls")),
    path("campaigns/", include("fincrm.campaigns.urls")),
    path("events/", include("fincrm.events.urls")),
    path("api/v1/", api.urls),
    path("portal/", include("fincrm.portal.urls")),
    path("service/", include("fincrm.service.urls")),
    path("surveys/", include("fincrm.surveys.urls")),
    path("loyalty/", include("fincrm.loyalty.urls")),
    path("insights/", include("fincrm.insights.urls")),
    path("reports/", include("fincrm.reports.urls")),
    path("checks/", include("fincrm.checks.urls")),
    path("staff/", include("fincrm.staff.urls")),
    path("postloan/", include("fincrm.postloan.urls")),
    path("knowledge/", include("fincrm.knowledge.urls")),
    path("s/<str:token>/", survey_views.answer, name="survey_answer"),
    path("accounts/tokens/", api_views.tokens, name="api_tokens"),
    path("accounts/tokens/<int:pk>/revoke/", api_views.token_revoke, name="api_token_revoke"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
