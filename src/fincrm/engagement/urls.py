from django.urls import path

from . import views

app_name = "engagement"

# ``engagement:care_send`` (tasks/<pk>/send/, sending a care task's message) is messaging's
# view: ``fincrm.urls`` adds ``fincrm.messaging.urls.engagement_urlpatterns`` to these.

urlpatterns = [
    path("tasks/", views.TaskListView.as_view(), name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("tasks/done/", views.task_done_bulk, name="task_done_bulk"),
    path("tasks/calendar/", views.task_calendar, name="task_calendar"),
    path("interactions/import/", views.interaction_import, name="interaction_import"),
    path(
        "clients/<int:customer_pk>/interactions/new/", views.interaction_add, name="interaction_add"
    ),
    path("interactions/<int:pk>/attachment/", views.interaction_attachment, name="attachment"),
]
