from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("clients/<int:customer_pk>/preview/", views.preview, name="preview"),
    path("clients/<int:customer_pk>/generate/", views.generate, name="generate"),
    path("<int:pk>/file/", views.download, name="download"),
]
