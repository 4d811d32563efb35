from django.urls import path

from . import views

app_name = "postloan"

urlpatterns = [
    path("facilities/<int:pk>/", views.facility_page, name="facility"),
    path("facilities/<int:pk>/guarantees/", views.guarantee_create, name="guarantee_create"),
    path("facilities/<int:pk>/policies/", views.policy_create, name="policy_create"),
    path("facilities/<int:pk>/claims/", views.claim_create, name="claim_create"),
    path("evidence/<int:pk>/upload/", views.evidence_upload, name="evidence_upload"),
    path(
        "evidence/<int:pk>/accept/",
        views.evidence_decide,
        {"decision": "accept"},
        name="evidence_accept",
    ),
    path(
        "evidence/<int:pk>/reject/",
        views.evidence_decide,
        {"decision": "reject"},
        name="evidence_reject",
    ),
    path("evidence/<int:pk>/file/", views.evidence_file, name="evidence_file"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="claim_decide"),
]
