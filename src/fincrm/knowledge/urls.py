from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("", views.ArticleListView.as_view(), name="list"),
    path("new/", views.article_create, name="create"),
    path("<int:article_id>/", views.article_detail, name="detail"),
    path("<int:article_id>/edit/", views.article_edit, name="edit"),
    path("<int:article_id>/publish/", views.article_publish, name="publish"),
    path("<int:article_id>/withdraw/", views.article_withdraw, name="withdraw"),
    path("<int:article_id>/attachment/", views.attachment, name="attachment"),
]
