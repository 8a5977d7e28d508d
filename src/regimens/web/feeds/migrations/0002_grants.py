"""Pharmacists and nurses may create, rotate and revoke feeds and send change e-mails."""

from django.db import migrations

GRANTS = ("pharmacist", "nurse")


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("feeds")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.get(content_type__app_label="feeds", codename="manage_feeds")
    for name in GRANTS:
        g, _ = Group.objects.get_or_create(name=name)
        g.permissions.add(perm)


class Migration(migrations.Migration):
    dependencies = [("feeds", "0001_initial"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
