"""Existing experiments get an analysis plan that keeps what was meaningful in the one they had.

Before, every outcome was tested for equivalence with a margin of 1, and Holm adjusted over TP, FN, FP, precision
and recall. A margin of 1 means one threat on the counts (TP, FN, FP, TN), as the original study meant it, and is
kept there; on a share between 0 and 1 it made every pair of arms "equivalent", so the proportions get none.
The Holm family becomes TP, FP and precision: FN and recall are TP's test again (FN = real threats - TP, recall =
TP / real threats). Researchers can change both in the admin.
"""

from django.db import migrations

CARRIED_MARGIN = {
    "margin": 1.0,
    "rationale": "One threat: the margin of 1 that every outcome had before margins were declared (as in the "
    "original study), kept for the counts.",
}
FAMILY = ["tp", "fp", "precision"]


def declare(apps, schema_editor):
    Experiment = apps.get_model("experiment", "Experiment")
    for experiment in Experiment.objects.all():
        experiment.equivalence_margins = {key: dict(CARRIED_MARGIN) for key in ("tp", "fn", "fp", "tn")}
        experiment.holm_family = list(FAMILY)
        experiment.save(update_fields=["equivalence_margins", "holm_family"])


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0012_analysis_plan"),
    ]

    operations = [
        migrations.RunPython(declare, migrations.RunPython.noop),
    ]
