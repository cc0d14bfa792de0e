from django.urls import path

from inspector.views import escalations, prompts, routing, run_detail, runs, servers

app_name = "inspector"

urlpatterns = [
    path("", runs.home, name="home"),
    path("runs/", runs.runs, name="runs"),
    path("runs/start/", runs.run_start, name="run_start"),
    path("runs/<int:conversation_id>/", run_detail.run, name="run"),
    path("runs/<int:conversation_id>/cancel/", run_detail.run_cancel, name="run_cancel"),
    path(
        "runs/<int:conversation_id>/fork/<int:tool_call_id>/",
        run_detail.run_fork,
        name="run_fork",
    ),
    path("escalations/", escalations.escalations, name="escalations"),
    path(
        "escalations/<int:escalation_id>/answer/",
        escalations.escalation_answer,
        name="escalation_answer",
    ),
    path(
        "escalations/<int:escalation_id>/decide/",
        escalations.approval_decide,
        name="approval_decide",
    ),
    path("templates/", prompts.templates, name="templates"),
    path("templates/<str:key>/", prompts.template_detail, name="template"),
    path("templates/<str:key>/preview/", prompts.template_preview, name="template_preview"),
    path(
        "templates/<str:key>/versions/<int:number>/activate/",
        prompts.template_activate,
        name="template_activate",
    ),
    path("routing/", routing.routing, name="routing"),
    path("routing/new/", routing.rule_edit, name="rule_new"),
    path("routing/try/", routing.rules_try, name="rules_try"),
    path("routing/<int:rule_id>/", routing.rule_edit, name="rule_edit"),
    path("routing/<int:rule_id>/delete/", routing.rule_delete, name="rule_delete"),
    path("servers/", servers.servers, name="servers"),
]
