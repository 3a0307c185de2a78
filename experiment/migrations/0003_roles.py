"""Create the Instructor and Researcher groups with their permissions.

Instructors run sessions and watch the monitor; they get no view of threats (the answer key) or of participants'
answers. Researchers get everything in the three apps, the analysis and the export.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

INSTRUCTOR_PERMISSIONS = [
    ("experiment", "view_experiment"),
    ("experiment", "view_arm"),
    ("experiment", "add_labsession"),
    ("experiment", "change_labsession"),
    ("experiment", "view_labsession"),
    ("experiment", "run_session"),
]
RESEARCHER_APPS = ["threats", "experiment", "analysis"]


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    instructor, _ = Group.objects.get_or_create(name="Instructor")
    instructor.permissions.set(
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in INSTRUCTOR_PERMISSIONS
    )
    researcher, _ = Group.objects.get_or_create(name="Researcher")
    researcher.permissions.set(Permission.objects.filter(content_type__app_label__in=RESEARCHER_APPS))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Instructor", "Researcher"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0002_roles_and_completion_codes"),
        ("threats", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
