"""Celery tasks: thin wrappers that call one service each. Celery autodiscovers this package."""

from orchestration.tasks import servers, steps  # noqa: F401
