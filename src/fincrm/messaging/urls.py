from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("outbox/", views.OutboxView.as_view(), name="outbox"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("inbound/<str:token>/", views.inbound, name="inbound"),
]

#: Messaging's pages in engagement's namespace (``fincrm.urls`` composes them): sending a
#: care task's message is reached from the task list as ``engagement:care_send``.
engagement_urlpatterns = [
    path("tasks/<int:pk>/send/", views.care_send, name="care_send"),
]
