from django.contrib import admin
from django.urls import include, path

from fincrm.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("fincrm.accounts.urls")),
    path("customers/", include("fincrm.customers.urls")),
    path("financing/", include("fincrm.financing.urls")),
    path("evaluation/", include("fincrm.evaluation.urls")),
    path("risk/", include("fincrm.risk.urls")),
    path("engagement/", include("fincrm.engagement.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
