from django.urls import path

from . import views

app_name = "loyalty"

urlpatterns = [
    path("clients/<int:customer_pk>/redeem/", views.redeem, name="redeem"),
    path("clients/<int:customer_pk>/referral/", views.referral, name="referral"),
]
