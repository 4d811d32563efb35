from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("churn/", views.churn_model, name="churn"),
    path("demand/", views.demand, name="demand"),
    path(
        "recommendations/<int:pk>/<slug:decision>/",
        views.recommendation_decide,
        name="recommendation",
    ),
]
