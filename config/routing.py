"""Websocket routes of every app; the consumers check CRM rights on connect."""

from django.urls import path, re_path

from bizproc import consumers
from bizproc.urls import InstanceIdConverter
from crm.consumers import RecordCardConsumer
from designer.consumers import TemplatePresenceConsumer

websocket_urlpatterns: list = [
    path(
        "ws/bizproc/documents/<str:document_id>/",
        consumers.DocumentProcessesConsumer.as_asgi(),
    ),
    path(
        "ws/bizproc/documents/<str:document_id>/journal/",
        consumers.DocumentJournalConsumer.as_asgi(),
    ),
    re_path(
        rf"^ws/bizproc/processes/(?P<instance_id>{InstanceIdConverter.regex})/$",
        consumers.InstanceConsumer.as_asgi(),
    ),
    path("ws/bizproc/scenario-runs/", consumers.ScenarioRunsConsumer.as_asgi()),
    path("ws/designer/templates/<int:pk>/", TemplatePresenceConsumer.as_asgi()),
    path("ws/crm/records/<str:document_id>/", RecordCardConsumer.as_asgi()),
]
