from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("training/", views.my_training, name="training"),
    path("training/team/", views.team_training, name="team_training"),
    path("training/new/", views.record_create, name="record_create"),
    path(
        "training/records/<int:training_record_id>/certificate/",
        views.certificate,
        name="certificate",
    ),
    path("scorecard/", views.scorecard, name="scorecard"),
]
