"""Create the two groups MMOS knows: ``operators`` (run, watch, answer) and ``admins`` (configure)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = [
    "view_conversation",
    "add_conversation",
    "change_conversation",
    "view_message",
    "view_toolcall",
    "view_escalation",
    "change_escalation",
    "view_server",
    "view_specialist",
    "view_step",
    "view_thread",
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrations; the groups need them now.
    app_config = apps.get_app_config("orchestration")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    own = Permission.objects.filter(content_type__app_label="orchestration")
    operators, _ = Group.objects.get_or_create(name="operators")
    operators.permissions.set(own.filter(codename__in=OPERATOR_PERMISSIONS))
    admins, _ = Group.objects.get_or_create(name="admins")
    admins.permissions.set(own)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["operators", "admins"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orchestration", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
