"""Instructors and researchers may release feedback; researchers also manage the new information sheets and
consent statements, as they manage everything else in the experiment app."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

RELEASE = "release_feedback"
SHEET_MODELS = ["informationsheet", "consentstatement"]


def give_permissions(apps, schema_editor):
    # Permissions are otherwise created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    release = Permission.objects.get(content_type__app_label="experiment", codename=RELEASE)
    sheets = Permission.objects.filter(content_type__app_label="experiment", content_type__model__in=SHEET_MODELS)
    instructor, _ = Group.objects.get_or_create(name="Instructor")
    instructor.permissions.add(release)
    researcher, _ = Group.objects.get_or_create(name="Researcher")
    researcher.permissions.add(release, *sheets)


def take_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    taken = Permission.objects.filter(content_type__app_label="experiment", codename=RELEASE) | Permission.objects.filter(
        content_type__app_label="experiment", content_type__model__in=SHEET_MODELS
    )
    for group in Group.objects.filter(name__in=["Instructor", "Researcher"]):
        group.permissions.remove(*taken)


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0015_information_sheet_debrief_and_feedback_release"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(give_permissions, take_permissions)]
