from django.urls import path

from . import views

app_name = "checks"

urlpatterns = [
    path("customers/<int:pk>/", views.customer_checks, name="customer"),
    path("customers/<int:pk>/run/", views.check_now, name="run"),
    path("import/", views.findings_import, name="import"),
]
