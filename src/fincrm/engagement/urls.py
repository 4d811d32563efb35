from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("tasks/", views.TaskListView.as_view(), name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path(
        "clients/<int:customer_pk>/interactions/new/", views.interaction_add, name="interaction_add"
    ),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
