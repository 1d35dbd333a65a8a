from django.urls import path

from designer import version_views, views

app_name = "designer"
urlpatterns = [
    path("", views.template_list, name="template-list"),
    path("new/", views.template_create, name="template-create"),
    path("import/", version_views.template_import, name="template-import"),
    path("<int:pk>/", views.template_edit, name="template-edit"),
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
    path("<int:pk>/scenario-parameters/", views.scenario_parameters, name="scenario-parameters"),
]
