"""Websocket routes of every app; the consumers check CRM rights on connect."""

websocket_urlpatterns: list = []
