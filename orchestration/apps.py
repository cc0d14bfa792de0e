from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrchestrationConfig(AppConfig):
    name = "orchestration"
    verbose_name = "Orchestration"

    def ready(self) -> None:
        from orchestration.services.prompt_seed import seed_after_migrate

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="mmos-prompt-seed")
