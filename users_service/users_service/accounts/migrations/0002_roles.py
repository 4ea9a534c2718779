"""The roles are Django groups; create the two the system knows (idempotent)."""

from django.db import migrations

ROLES = ("catalog_manager", "order_operator")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        # Reversing keeps the groups: they may hold members and permissions by then.
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
