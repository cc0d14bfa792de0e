"""The root conftest's Redis fixtures do what they promise."""

from __future__ import annotations

import json

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

from mmos_site.celery import app as celery_app


def test_session_redis_answers_and_stores_values(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)

    client.set("mmos:test:greeting", "hello")

    assert redis_url.startswith("redis://127.0.0.1:")
    assert client.get("mmos:test:greeting") == b"hello"
    client.close()


def test_live_settings_start_from_an_empty_database(
    redis_url: str, live_redis_settings: str
) -> None:
    assert redis.Redis.from_url(live_redis_settings).dbsize() == 0
    assert redis_url == settings.REDIS_URL


@pytest.mark.django_db
def test_celery_tasks_are_queued_in_the_live_redis(live_redis_settings: str) -> None:
    celery_app.send_task("mmos.test.echo", args=["hi"])

    queued = redis.Redis.from_url(live_redis_settings).lrange("celery", 0, -1)
    assert len(queued) == 1
    assert json.loads(queued[0])["headers"]["task"] == "mmos.test.echo"


async def test_channel_layer_messages_travel_through_the_live_redis(
    live_redis_settings: str,
) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()

    await layer.send(channel, {"type": "conversation.status", "status": "running"})

    assert await layer.receive(channel) == {"type": "conversation.status", "status": "running"}
    assert layer.hosts[0]["address"] == live_redis_settings
