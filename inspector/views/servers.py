"""Servers: health, version, loaded models, slots in use, cooldown and recent latency."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from inspector.views.common import fragment, operator_required, page
from orchestration.selectors.servers import server_list


@require_GET
@operator_required
def servers(request: HttpRequest) -> HttpResponse:
    context = {"servers": server_list()}
    if getattr(request, "htmx", False) and request.htmx.target == "servers-table":
        return fragment(request, "inspector/partials/servers_table.html", context)
    return page(request, "inspector/servers.html", context, nav="servers")
