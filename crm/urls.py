from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:entity>/", views.record_list, name="record-list"),
    path("<str:entity>/add/", views.record_create, name="record-create"),
    path("<str:entity>/columns/", views.list_columns, name="list-columns"),
    path("<str:entity>/lookup/<str:code>/", views.record_lookup, name="record-lookup"),
    path("<str:entity>/<int:pk>/", views.record_detail, name="record-detail"),
    path("<str:entity>/<int:pk>/edit/", views.record_update, name="record-update"),
    path("<str:entity>/<int:pk>/delete/", views.record_delete, name="record-delete"),
    path("<str:entity>/<int:pk>/comments/", views.comment_create, name="comment-create"),
]
