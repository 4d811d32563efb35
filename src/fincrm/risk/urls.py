from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<int:pk>/", views.alert_action, name="alert_action"),
    path("alerts/bulk/", views.alert_bulk, name="alert_bulk"),
    path("proposals/", views.ProposalListView.as_view(), name="proposals"),
    path("proposals/<int:pk>/", views.proposal_decide, name="proposal_decide"),
    path("reviews/", views.ReviewListView.as_view(), name="reviews"),
    path("reviews/bulk/", views.review_bulk, name="review_bulk"),
    path("reviews/<int:pk>/", views.review_complete, name="review_complete"),
    path("reviews/<int:pk>/effect/", views.review_effect, name="review_effect"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("models/", views.governance, name="models"),
    path("models/<int:pk>/switch/", views.model_switch_request, name="model_switch_request"),
    path("models/switches/<int:pk>/", views.model_switch_decide, name="model_switch_decide"),
    path("facilities/<int:pk>/class/", views.facility_classify, name="facility_classify"),
]
