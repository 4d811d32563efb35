from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/", views.event_new, name="new"),
    path("<int:pk>/", views.event_detail, name="detail"),
    path("<int:pk>/edit/", views.event_edit, name="edit"),
    path("<int:pk>/invite/", views.event_invite, name="invite"),
    path("<int:pk>/check-in/", views.event_check_in, name="check_in"),
    path("<int:pk>/follow-up/", views.event_follow_up, name="follow_up"),
    path("answer/<str:token>/", views.rsvp_link, name="rsvp_link"),
]
