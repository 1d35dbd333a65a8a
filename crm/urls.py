from django.urls import path

from crm import field_views, views

app_name = "crm"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:entity>/", views.record_list, name="record-list"),
    path("<str:entity>/fields/", field_views.field_list, name="field-list"),
    path("<str:entity>/fields/add/", field_views.field_create, name="field-create"),
    path("<str:entity>/fields/<int:pk>/", field_views.field_update, name="field-update"),
    path("<str:entity>/fields/<int:pk>/delete/", field_views.field_delete, name="field-delete"),
    path("<str:entity>/add/", views.record_create, name="record-create"),
    path("<str:entity>/columns/", views.list_columns, name="list-columns"),
    path("<str:entity>/lookup/<str:code>/", views.record_lookup, name="record-lookup"),
    path("<str:entity>/<int:pk>/", views.record_detail, name="record-detail"),
    path("<str:entity>/<int:pk>/edit/", views.record_update, name="record-update"),
    path("<str:entity>/<int:pk>/delete/", views.record_delete, name="record-delete"),
    path("<str:entity>/<int:pk>/comments/", views.comment_create, name="comment-create"),
    path("<str:entity>/<int:pk>/files/<int:file_id>/", views.record_file, name="record-file"),
]
