"""The four roles as groups with their permissions (roles.GRANTS), and database triggers that
refuse UPDATE and DELETE on audit entries (append-only in the database, not only in the model)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from regimens.web.clinic.roles import GRANTS

    for app_config in apps.get_app_configs():  # permissions exist before the groups point at them
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GRANTS.items():
        g, _ = Group.objects.get_or_create(name=name)
        for p in perms:
            app_label, codename = p.split(".")
            g.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


SQLITE = [
    ("CREATE TRIGGER audit_no_update BEFORE UPDATE ON clinic_auditentry "
     "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"),
    ("CREATE TRIGGER audit_no_delete BEFORE DELETE ON clinic_auditentry "
     "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;"),
]
POSTGRES = [
    ("CREATE OR REPLACE FUNCTION clinic_audit_append_only() RETURNS trigger AS $$ "
     "BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql;"),
    ("CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON clinic_auditentry "
     "FOR EACH ROW EXECUTE FUNCTION clinic_audit_append_only();"),
]


def append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(append_only, migrations.RunPython.noop),
    ]
