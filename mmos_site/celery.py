"""The Celery app: Redis broker, late acks, one task prefetched at a time, JSON only."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mmos_site.settings")

app = Celery("mmos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
