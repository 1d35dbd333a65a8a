from django.urls import path, register_converter

from bizproc import process_views, scenario_views, task_views, views


class InstanceIdConverter:
    """A process id (``67a1c2b3d4e5f6.12345678``): anything else is a 404 before any query."""

    regex = r"[0-9A-Za-z.]{1,32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(InstanceIdConverter, "instance")

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
    path("documents/<str:document_id>/journal/", views.document_journal, name="document-journal"),
    path("processes/", process_views.process_list, name="process-list"),
    path(
        "processes/<instance:instance_id>/",
        process_views.instance_detail,
        name="instance-detail",
    ),
    path(
        "processes/<instance:instance_id>/stop/",
        process_views.instance_stop,
        name="instance-stop",
    ),
    path(
        "processes/<instance:instance_id>/delete/",
        process_views.instance_delete,
        name="instance-delete",
    ),
    path(
        "processes/<instance:instance_id>/resume/",
        process_views.instance_resume,
        name="instance-resume",
    ),
    path("tasks/", task_views.task_list, name="task-list"),
    path("tasks/<int:pk>/", task_views.task_detail, name="task-detail"),
    path("scenarios/", scenario_views.scenario_list, name="scenario-list"),
    path("scenarios/<int:pk>/", scenario_views.scenario_detail, name="scenario-detail"),
    path("scenarios/<int:pk>/start/", scenario_views.scenario_start, name="scenario-start"),
    path(
        "scenarios/run-selected/",
        scenario_views.scenario_run_selected,
        name="scenario-run-selected",
    ),
    path("scenarios/bulk/<str:entity>/", scenario_views.bulk_scenarios, name="bulk-scenarios"),
    path(
        "documents/<str:document_id>/scenarios/",
        scenario_views.document_scenarios,
        name="document-scenarios",
    ),
]
