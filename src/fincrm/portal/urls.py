from django.contrib.auth import views as auth_views
from django.urls import path

from . import contact_views, knowledge_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("documents/<int:pk>/upload/", views.upload, name="upload"),
    path("surveys/<int:pk>/", views.survey, name="survey"),
    path("events/<int:pk>/answer/", views.event_answer, name="event_answer"),
    path("complaints/new/", views.complaint, name="complaint"),
    path("applications/new/", views.apply, name="apply"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("assistant/", views.assistant_page, name="assistant"),
    path("assistant/handover/", views.assistant_handover, name="assistant_handover"),
    path("knowledge/", knowledge_views.article_list, name="knowledge"),
    path("knowledge/<int:article_id>/", knowledge_views.article, name="article"),
    path(
        "knowledge/<int:article_id>/attachment/",
        knowledge_views.attachment,
        name="article_attachment",
    ),
    path("contact-details/", contact_views.contact_details, name="contact_details"),
]
