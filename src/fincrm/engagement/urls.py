from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("tasks/", views.TaskListView.as_view(), name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("tasks/done/", views.task_done_bulk, name="task_done_bulk"),
    path("tasks/<int:pk>/send/", views.care_send, name="care_send"),
    path("tasks/calendar/", views.task_calendar, name="task_calendar"),
    path("interactions/import/", views.interaction_import, name="interaction_import"),
    path(
        "clients/<int:customer_pk>/interactions/new/", views.interaction_add, name="interaction_add"
    ),
    path("interactions/<int:pk>/attachment/", views.interaction_attachment, name="attachment"),
]
