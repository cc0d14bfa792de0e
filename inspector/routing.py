"""Websocket routes of the inspector."""

from __future__ import annotations

websocket_urlpatterns: list = []
