from django.urls import path

from bizproc import scenario_views, views

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
    path("scenarios/", scenario_views.scenario_list, name="scenario-list"),
    path("scenarios/<int:pk>/", scenario_views.scenario_detail, name="scenario-detail"),
    path("scenarios/<int:pk>/start/", scenario_views.scenario_start, name="scenario-start"),
    path("scenarios/runs/", scenario_views.run_status, name="scenario-run-status"),
    path(
        "documents/<str:document_id>/scenarios/",
        scenario_views.document_scenarios,
        name="document-scenarios",
    ),
]
