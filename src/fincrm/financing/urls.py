from django.urls import path

from . import modification_views, views

app_name = "financing"

urlpatterns = [
    path("applications/", views.ApplicationListView.as_view(), name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/green/", views.GreenChannelQueueView.as_view(), name="green_channel"),
    path("applications/new/", views.application_new, name="application_new"),
    path("applications/<int:pk>/move/", views.application_move, name="application_move"),
    path("applications/<int:pk>/terms/", views.application_terms, name="application_terms"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path(
        "applications/<int:pk>/tranches/", views.application_tranches, name="application_tranches"
    ),
    path(
        "applications/<int:pk>/tranches/<int:tranche_id>/disburse/",
        views.tranche_disburse,
        name="tranche_disburse",
    ),
    path(
        "applications/<int:pk>/tranches/<int:tranche_id>/cancel/",
        views.tranche_cancel,
        name="tranche_cancel",
    ),
    path("documents/<int:pk>/upload/", views.document_upload, name="document_upload"),
    path(
        "documents/<int:pk>/accept/",
        views.document_decide,
        {"decision": "accept"},
        name="document_accept",
    ),
    path(
        "documents/<int:pk>/reject/",
        views.document_decide,
        {"decision": "reject"},
        name="document_reject",
    ),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path("collections/", views.CollectionListView.as_view(), name="collections"),
    path("collections/<int:pk>/outcome/", views.collection_outcome, name="collection_outcome"),
    path("collections/<int:pk>/letter/", views.collection_letter, name="collection_letter"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("installments/<int:pk>/missed/", views.installment_missed, name="installment_missed"),
    path("facilities/<int:pk>/schedule/", views.facility_schedule, name="facility_schedule"),
    path("facilities/<int:pk>/payments/", views.payment_create, name="payment_create"),
    path(
        "facilities/<int:pk>/modifications/",
        modification_views.modification_request,
        name="modification_request",
    ),
    path(
        "modifications/<int:pk>/decide/",
        modification_views.modification_decide,
        name="modification_decide",
    ),
    path(
        "modifications/<int:pk>/cancel/",
        modification_views.modification_cancel,
        name="modification_cancel",
    ),
]
