from django.urls import path

from . import import_views, views

app_name = "customers"

# The 360° page (``detail``) and the personal-data requests (``privacy_export``,
# ``privacy_erase``) read the apps above customers: they are the web layer's
# (``fincrm.web.customer360``), added to this namespace by ``fincrm.urls``.

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/reveal/", views.customer_reveal, name="reveal"),
    path("<int:pk>/referrers/", views.referrer_options, name="referrers"),
    path("<int:customer_pk>/contacts/new/", views.contact_edit, name="contact_create"),
    path("<int:customer_pk>/contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:customer_pk>/statements/new/", views.statement_edit, name="statement_create"),
    path(
        "<int:customer_pk>/statements/<int:pk>/edit/",
        views.statement_edit,
        name="statement_edit",
    ),
]

urlpatterns += [
    path("import/", import_views.import_upload, name="import"),
    path("import/<str:token>/", import_views.import_preview, name="import_preview"),
    path("import/jobs/<int:import_job_id>/", import_views.import_job, name="import_job"),
]
