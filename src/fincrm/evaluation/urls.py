from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("policy/", views.policy_edit, name="policy"),
    path("segments/", views.segments, name="segments"),
    path("runs/", views.runs, name="runs"),
]
