"""Participants get a short code to resume with (11 characters, shown as 7KQM-X3PD-RW9), unique, as the UUID in
their addresses should not be what unlocks a finished participant's thank-you page. Existing participants get one
each here; their completion codes stay derived from the UUID, so no code already handed out changes."""

import secrets

from django.db import migrations, models

import experiment.codes

# As experiment/codes.py had them when this was written: a migration keeps its own copy.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 11


def give_short_codes(apps, schema_editor):
    Participant = apps.get_model("experiment", "Participant")
    taken = set(Participant.objects.exclude(short_code="").values_list("short_code", flat=True))
    pending = []
    for participant in Participant.objects.filter(short_code="").only("pk").iterator():
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        while code in taken:
            code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        taken.add(code)
        participant.short_code = code
        pending.append(participant)
    Participant.objects.bulk_update(pending, ["short_code"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0013_existing_experiments_analysis_plan"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="short_code",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The code the participant types to resume (shown as 7KQM-X3PD-RW9).",
                max_length=11,
                verbose_name="short code",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(give_short_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="participant",
            name="short_code",
            field=models.CharField(
                default=experiment.codes.new_participant_code,
                editable=False,
                help_text="The code the participant types to resume (shown as 7KQM-X3PD-RW9).",
                max_length=11,
                verbose_name="short code",
            ),
        ),
        migrations.AddConstraint(
            model_name="participant",
            constraint=models.UniqueConstraint(fields=("short_code",), name="experiment_participant_unique_short_code"),
        ),
    ]
