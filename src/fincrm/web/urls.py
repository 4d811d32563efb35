"""The workbench's pages under the site's root, without a namespace: their names (``home``,
``search``, ``notifications``, ``audit`` …) are the ones every template links to."""

from django.urls import path

from . import bell, search, views

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit, name="audit"),
    path("search/", search.search, name="search"),
    path("notifications/", bell.notification_list, name="notifications"),
    path("notifications/bell/", bell.bell, name="notification_bell"),
    path("notifications/<int:pk>/read/", bell.notification_read, name="notification_read"),
    path("notifications/read/", bell.notifications_read, name="notifications_read"),
]
