from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("report/", views.monthly_report, name="report"),
    path("clients/<int:customer_pk>/new/", views.ticket_create, name="create"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.ticket_action, name="action"),
]
