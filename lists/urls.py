from django.urls import path

from lists import views

app_name = "lists"
urlpatterns = [
    path("", views.list_index, name="list-index"),
    path("new/", views.list_create, name="list-create"),
    path("requests/", views.request_index, name="request-index"),
    path("requests/mine/", views.my_requests_page, name="my-requests"),
    path("requests/<int:list_pk>/new/", views.request_add, name="request-add"),
    path("files/<int:pk>/", views.file_download, name="file-download"),
    path("<int:list_pk>/", views.element_list, name="element-list"),
    path("<int:list_pk>/settings/", views.list_update, name="list-update"),
    path("<int:list_pk>/delete/", views.list_delete, name="list-delete"),
    path("<int:list_pk>/fields/", views.field_list, name="field-list"),
    path("<int:list_pk>/fields/add/", views.field_create, name="field-create"),
    path("<int:list_pk>/fields/<int:pk>/", views.field_update, name="field-update"),
    path("<int:list_pk>/fields/<int:pk>/delete/", views.field_delete, name="field-delete"),
    path("<int:list_pk>/add/", views.element_add, name="element-add"),
    path("<int:list_pk>/<int:pk>/", views.element_detail, name="element-detail"),
    path("<int:list_pk>/<int:pk>/edit/", views.element_edit, name="element-edit"),
    path("<int:list_pk>/<int:pk>/delete/", views.element_delete, name="element-delete"),
]
