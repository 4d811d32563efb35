from django.urls import path

from . import views

app_name = "financing"

urlpatterns = [
    path("applications/", views.ApplicationListView.as_view(), name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/move/", views.application_move, name="application_move"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("installments/<int:pk>/missed/", views.installment_missed, name="installment_missed"),
    path("facilities/<int:pk>/schedule/", views.facility_schedule, name="facility_schedule"),
    path("facilities/<int:pk>/payments/", views.payment_create, name="payment_create"),
]
