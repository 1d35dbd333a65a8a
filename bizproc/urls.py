from django.urls import path

from bizproc import views

app_name = "bizproc"
urlpatterns = [
    path(
        "documents/<str:document_id>/processes/",
        views.document_processes,
        name="document-processes",
    ),
    path(
        "documents/<str:document_id>/processes/start/<int:template_pk>/",
        views.process_start,
        name="process-start",
    ),
    path("processes/<str:instance_id>/", views.instance_detail, name="instance-detail"),
    path("processes/<str:instance_id>/stop/", views.instance_stop, name="instance-stop"),
    path("processes/<str:instance_id>/delete/", views.instance_delete, name="instance-delete"),
]
