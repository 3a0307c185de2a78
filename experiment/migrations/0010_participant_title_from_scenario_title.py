"""Experiments get a participant-facing title apart from their research title, which may name the treatment.
Existing experiments get a neutral one: their scenario's title, in each of its languages. Their content keys are
renewed, so that no page cached with the research title is shown again."""

import uuid

from django.db import migrations, models


def title_from_scenario(apps, schema_editor):
    Experiment = apps.get_model("experiment", "Experiment")
    for experiment in Experiment.objects.select_related("scenario"):
        scenario = experiment.scenario
        experiment.participant_title = scenario.title
        for language, parts in scenario.translations.items():
            if parts.get("title"):
                experiment.translations.setdefault(language, {})["participant_title"] = parts["title"]
        experiment.content_key = uuid.uuid4()
        experiment.save(update_fields=["participant_title", "translations", "content_key"])


def drop_translated_titles(apps, schema_editor):
    Experiment = apps.get_model("experiment", "Experiment")
    for experiment in Experiment.objects.all():
        for parts in experiment.translations.values():
            parts.pop("participant_title", None)
        experiment.save(update_fields=["translations"])


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0009_drop_completion_code_table"),
        ("threats", "0004_diagram_terms_by_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="experiment",
            name="participant_title",
            field=models.CharField(
                default="",
                help_text="The title participants read (consent page, page header). Name no diagram that an arm "
                "does not get.",
                max_length=200,
                verbose_name="participant title",
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="experiment",
            name="title",
            field=models.CharField(
                help_text="The research title, for staff; participants never see it.",
                max_length=200,
                verbose_name="title",
            ),
        ),
        migrations.RunPython(title_from_scenario, drop_translated_titles),
    ]
