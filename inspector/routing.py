"""Websocket routes of the inspector."""

from __future__ import annotations

from django.urls import path

from inspector.consumers import ConversationConsumer, RunsConsumer

websocket_urlpatterns = [
    path("ws/conversations/<int:conversation_id>/", ConversationConsumer.as_asgi()),
    path("ws/runs/", RunsConsumer.as_asgi()),
]
