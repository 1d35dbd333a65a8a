from django.urls import path

from designer import global_views, scenario_views, version_views, views

app_name = "designer"
urlpatterns = [
    path("", views.template_list, name="template-list"),
    path("new/", views.template_create, name="template-create"),
    path("import/", version_views.template_import, name="template-import"),
    path("<int:pk>/", views.template_edit, name="template-edit"),
    # Global constants and variables (kind: constants or variables).
    path("globals/<str:kind>/", global_views.global_list, name="global-list"),
    path("globals/<str:kind>/new/", global_views.global_create, name="global-create"),
    path("globals/<str:kind>/<int:pk>/", global_views.global_update, name="global-update"),
    path(
        "globals/<str:kind>/<int:pk>/delete/",
        global_views.global_delete_view,
        name="global-delete",
    ),
    path("<int:pk>/duplicate/", views.template_duplicate_view, name="template-duplicate"),
    path("<int:pk>/active/", views.template_activate, name="template-activate"),
    path("<int:pk>/delete/", views.template_delete_view, name="template-delete"),
    path("<int:pk>/settings/", views.template_settings, name="template-settings"),
    path("<int:pk>/publish/", views.template_publish, name="template-publish"),
    path("<int:pk>/undo/", views.template_undo, name="template-undo"),
    path("<int:pk>/redo/", views.template_redo, name="template-redo"),
    path("<int:pk>/versions/", version_views.template_versions, name="template-versions"),
    path(
        "<int:pk>/versions/<int:number>/export/<str:fmt>/",
        version_views.version_export,
        name="version-export",
    ),
    path(
        "<int:pk>/versions/<int:number>/restore/",
        version_views.version_restore,
        name="version-restore",
    ),
    path("<int:pk>/draft/export/<str:fmt>/", version_views.draft_export, name="draft-export"),
    path("<int:pk>/blocks/", views.block_create, name="block-create"),
    path("<int:pk>/blocks/<str:name>/", views.block_update, name="block-update"),
    path("<int:pk>/blocks/<str:name>/move/", views.block_move, name="block-move"),
    path("<int:pk>/blocks/<str:name>/duplicate/", views.block_duplicate, name="block-duplicate"),
    path("<int:pk>/blocks/<str:name>/delete/", views.block_delete, name="block-delete"),
    path("<int:pk>/blocks/<str:name>/discard/", views.block_discard, name="block-discard"),
    path("<int:pk>/scenario-parameters/", views.scenario_parameters, name="scenario-parameters"),
    # The smart scenario editor.
    path("scenarios/", scenario_views.scenario_list, name="scenario-list"),
    path("scenarios/new/", scenario_views.scenario_create, name="scenario-create"),
    path("scenarios/<int:pk>/", scenario_views.scenario_edit, name="scenario-edit"),
    path(
        "scenarios/<int:pk>/settings/", scenario_views.scenario_settings, name="scenario-settings"
    ),
    path("scenarios/<int:pk>/publish/", scenario_views.scenario_publish, name="scenario-publish"),
    path(
        "scenarios/<int:pk>/parameters/",
        scenario_views.scenario_parameter,
        name="scenario-parameter-create",
    ),
    path(
        "scenarios/<int:pk>/parameters/<str:code>/",
        scenario_views.scenario_parameter,
        name="scenario-parameter-update",
    ),
    path(
        "scenarios/<int:pk>/parameters/<str:code>/move/",
        scenario_views.scenario_parameter_move,
        name="scenario-parameter-move",
    ),
    path(
        "scenarios/<int:pk>/parameters/<str:code>/delete/",
        scenario_views.scenario_parameter_delete,
        name="scenario-parameter-delete",
    ),
    path(
        "scenarios/<int:pk>/robots/",
        scenario_views.scenario_robot_create,
        name="scenario-robot-create",
    ),
    path(
        "scenarios/<int:pk>/robots/<str:name>/",
        scenario_views.scenario_robot_update,
        name="scenario-robot-update",
    ),
    path(
        "scenarios/<int:pk>/robots/<str:name>/move/",
        scenario_views.scenario_robot_move,
        name="scenario-robot-move",
    ),
    path(
        "scenarios/<int:pk>/robots/<str:name>/delete/",
        scenario_views.scenario_robot_delete,
        name="scenario-robot-delete",
    ),
    path(
        "scenarios/<int:pk>/start-parameters/",
        scenario_views.scenario_robot_start_parameters,
        name="scenario-robot-start-parameters",
    ),
]
