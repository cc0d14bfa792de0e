"""The servers page: health, version, loaded models, slots in use, cooldown, latency."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from orchestration.providers.slots import SLOTS_KEY
from tests.factories import ServerFactory

pytestmark = pytest.mark.django_db


def test_servers_page_shows_health_models_slots_cooldown_and_latency(
    alice_client, live_redis_settings
):
    ServerFactory(
        name="ollama01",
        parallel=4,
        is_healthy=True,
        version="0.6.2",
        loaded_models=[{"name": "qwen2.5:14b"}],
        recent_latency_ms=850.0,
        last_checked_at=timezone.now(),
    )
    ServerFactory(
        name="ollama02",
        is_healthy=False,
        last_error="connection refused",
        cooldown_until=timezone.now() + timedelta(seconds=30),
    )
    client = redis.Redis.from_url(live_redis_settings)
    far = int((timezone.now() + timedelta(minutes=5)).timestamp() * 1000)
    client.zadd(SLOTS_KEY.format("ollama01"), {"holder-a": far, "holder-b": far})
    content = alice_client.get(reverse("inspector:servers")).content.decode()
    first = content.split('id="server-ollama01"')[1].split("</tr>")[0]
    second = content.split('id="server-ollama02"')[1].split("</tr>")[0]
    assert "healthy" in first and "0.6.2" in first and "qwen2.5:14b" in first
    assert "2 / 4" in first and "850 ms" in first
    assert "down" in second and "connection refused" in second and "until" in second


def test_servers_page_says_unknown_when_the_slot_store_is_unreachable(alice_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ServerFactory(name="ollama01")
    content = alice_client.get(reverse("inspector:servers")).content.decode()
    assert "unknown" in content.split('id="server-ollama01"')[1].split("</tr>")[0]
